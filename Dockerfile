# quay-log-exporter: build with the dev toolchain, run on a slim image as a non-root user.
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the only install script is oniguruma's, a benchmark-only dev dependency.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY build ./build
# tsc, then esbuild bundles dist/cli.js into one file and its lazily imported chunks (build/README.md).
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json config.example.yaml ./
COPY patterns ./patterns
COPY rules ./rules
COPY examples ./examples
RUN mkdir -p /var/lib/quay-log-exporter && chown node:node /var/lib/quay-log-exporter
USER node
EXPOSE 9464
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["run", "--config", "/etc/quay-log-exporter/config.yaml"]
