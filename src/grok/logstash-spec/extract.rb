# Translates logstash-patterns-core's spec/patterns/*_spec.rb (legacy mode) into data our
# vitest suite checks: every grok match a spec asks for, and every expectation on its result.
#
#   ruby src/grok/logstash-spec/extract.rb SPEC_DIR > test/fixtures/third-party/logstash-patterns-core/legacy-spec-cases.json
#
# It runs the spec files themselves under a small stand-in for RSpec: `ecs_compatibility?` is false
# (legacy mode), so Ruby picks the legacy branch of every `if`. A grok match does not run here: it
# becomes a request (pattern, message), and its result a Probe that records how the spec reads it
# (`grok['a']`, `.keys`, …). `expect(probe).to matcher` records the matcher with its expected value.
# src/grok/logstash.test.ts runs the requests through our engine and applies the matchers.
# Needs only Ruby (Debian: ruby); used when the spec files change, not by the tests.
require 'json'

$requests = []
$cases = []
$current = nil

class NotExtractable < StandardError; end

# How a spec reads a grok result: a request index and a path of operations.
class Probe
  attr_reader :req, :path

  def initialize(req, path = [])
    @req = req
    @path = path
  end

  def [](key) = Probe.new(@req, @path + [['[]', key]])
  def keys = Probe.new(@req, @path + [['keys']])
  def last = Probe.new(@req, @path + [['last']])
  def first = Probe.new(@req, @path + [['first']])
  def to_s = Probe.new(@req, @path + [['to_s']])
  def to_hash = self

  def get(ref)
    parts = ref.start_with?('[') ? ref.scan(/\[([^\]]+)\]/).flatten : [ref]
    Probe.new(@req, @path + parts.map { |p| ['[]', p] })
  end

  def to_json(*a) = { 'req' => @req, 'path' => @path }.to_json(*a)

  def method_missing(name, *args)
    raise NotExtractable, "the spec computes on a grok result (#{name})"
  end

  def respond_to_missing?(*) = false
end

# A matcher, as data.
class Matcher
  attr_reader :name, :args

  def initialize(name, args)
    @name = name
    @args = args
  end

  def to_json(*a) = { 'matcher' => @name, 'args' => @args }.to_json(*a)
end

class HashIncluding
  def initialize(h) = @h = h
  def to_json(*a) = { '__hash_including' => @h }.to_json(*a)
end

class Target
  def initialize(actual) = @actual = actual

  def to(m) = record(m, false)
  def not_to(m) = record(m, true)
  alias to_not not_to

  def record(m, negate)
    if @actual.is_a?(Probe)
      $current[:expectations] << { 'probe' => @actual, 'negate' => negate, 'matcher' => m }
    elsif @actual.is_a?(String) && m.name == 'match'
      # spec_helper's `match`: the pattern named by the subject matches the value.
      $current[:expectations] << { 'probe' => request("%{#{@actual}}", m.args[0]), 'negate' => negate, 'matcher' => Matcher.new('pass', []) }
    else
      # A value the spec computed itself (a message string): check it here.
      ok = static_check(m)
      ok = !ok if negate
      $current[:expectations] << { 'static' => ok, 'what' => "#{m.name} on #{@actual.inspect[0, 80]}" }
    end
  end

  def static_check(m)
    a = @actual
    case m.name
    when 'start_with' then a.start_with?(m.args[0])
    when 'end_with' then a.end_with?(m.args[0])
    when 'include' then m.args.all? { |x| a.include?(x) }
    when 'eq', 'eql' then a == m.args[0]
    when 'be_nil' then a.nil?
    else raise NotExtractable, "static #{m.name}"
    end
  end
end

# A grok filter stand-in: records what it is asked to match.
class FakeGrok
  def initialize(opts) = @opts = opts
  def register = nil

  def filter(event)
    match = @opts['match']
    pattern = match.is_a?(Hash) ? match.values.first : match[1]
    pattern = pattern.first if pattern.is_a?(Array)
    event.probe = request(pattern, event.message, @opts['pattern_definitions'])
  end
end

class FakeEvent
  attr_accessor :probe
  attr_reader :message

  def initialize(h) = @message = h['message']
  def to_hash = @probe
  def get(ref) = @probe.get(ref)
  def include?(key) = raise(NotExtractable, 'event.include?')
end

def request(pattern, message, definitions = nil)
  $requests << { 'pattern' => pattern, 'message' => message, 'definitions' => definitions }.compact
  Probe.new($requests.length - 1)
end

module LogStash
  module Filters
    Grok = FakeGrok
  end
  Event = FakeEvent
end

class ExampleGroup
  class << self
    attr_writer :chain

    def chain = @chain || []

    def let(name, &blk)
      # The body is a method of its own, so `super()` in a nested let reaches the outer one.
      define_method("__let_#{name}", &blk)
      define_method(name) do
        @memo ||= {}
        @memo.key?(name) ? @memo[name] : (@memo[name] = send("__let_#{name}"))
      end
    end
    alias let! let

    def subject(name = nil, &blk)
      @explicit_subject = true
      let(:subject, &blk)
      define_method(name) { subject } if name
    end

    def before(*_a, &blk) = (@befores ||= []) << blk
    def after(*_a, &_blk) = nil
    def befores = (superclass.respond_to?(:befores) ? superclass.befores : []) + (@befores || [])

    def it(desc = '', &blk) = $examples << [self, desc.to_s, blk]
    alias specify it
    # Skipped upstream (xit, pending): not run there, not translated here.
    def xit(*) = nil
    alias pending xit
    def xcontext(*) = nil
    alias xdescribe xcontext

    def context(*descs, &blk)
      child = Class.new(self)
      child.chain = chain + descs.map(&:to_s)
      # RSpec's implicit subject is the innermost group's first description (a String here).
      child.let(:subject) { descs.first } unless explicit_subject
      child.class_eval(&blk)
    end

    def explicit_subject = @explicit_subject || (superclass.respond_to?(:explicit_subject) && superclass.explicit_subject)
    alias describe context

    def include_examples(name, namespaces = nil, opts = {})
      cond = opts[:if]
      it("#{name} #{namespaces.inspect}") do
        raise NotExtractable, "shared example #{name}" if cond.nil? || instance_exec(&cond)
        $current[:skipped_by_condition] = true
      end
    end
  end

  # spec_helper's GrokHelpers, legacy mode
  def pattern_mode = 'legacy'
  def ecs_compatibility? = false
  def ecs_compatibility = :disabled
  def grok_match(label, message, exact = false) = grok_match_event(label, message, exact).to_hash
  def grok_match_event(label, message, exact = false)
    e = build_event(message)
    e.probe = request(exact ? "^%{#{label}}$" : "%{#{label}}", message)
    e
  end
  def grok_exact_match(label, message) = grok_match(label, message, true)
  def build_event(message) = FakeEvent.new('message' => message)
  def build_grok(label, exact = false) = FakeGrok.new('match' => ['message', exact ? "^%{#{label}}$" : "%{#{label}}"])

  def expect(actual = nil) = Target.new(actual)
  def should(m) = Target.new(subject).to(m)
  def should_not(m) = Target.new(subject).not_to(m)
  def include(*args) = Matcher.new('include', args)
  def eq(v) = Matcher.new('eq', [v])
  def eql(v) = Matcher.new('eql', [v])
  def be(*v) = Matcher.new('be', v)
  def be_nil = Matcher.new('be_nil', [])
  def be_a(cls) = Matcher.new('be_a', [cls.name])
  def pass = Matcher.new('pass', [])
  def match(v) = Matcher.new('match', [v])
  def start_with(v) = Matcher.new('start_with', [v])
  def end_with(v) = Matcher.new('end_with', [v])
  def have_key(k) = Matcher.new('have_key', [k])
  def hash_including(h) = HashIncluding.new(h)
end

$examples = []
$file = nil

def describe_pattern(name, modes = [nil], &blk)
  return unless modes.include?('legacy') || modes.include?(nil)

  g = Class.new(ExampleGroup)
  g.chain = ["#{name}#{modes.include?('legacy') ? ' (legacy)' : ''}"]
  g.let(:pattern) { name }
  g.let(:message) { raise NotExtractable, 'let(:message) is missing' }
  g.let(:event) { grok_match_event(pattern, message) }
  g.let(:grok) { event.to_hash }
  g.subject(:grok_result) { grok }
  g.class_eval(&blk)
end

def describe(name, *_rest, &blk)
  g = Class.new(ExampleGroup)
  g.chain = [name.to_s]
  g.let(:subject) { name } # implicit: a nested context's own description replaces it
  g.class_eval(&blk)
end

module RSpec
  def self.describe(*a, &b) = Object.send(:describe, *a, &b)
  def self.configure = nil
end

spec_dir = ARGV[0] or abort 'usage: extract.rb SPEC_DIR'
Dir[File.join(spec_dir, '*_spec.rb')].sort.each do |path|
  $examples = []
  src = File.read(path).gsub(/^require .*$/, '')
  Object.new.instance_eval(src, path)
  $examples.each do |(group, desc, blk)|
    $current = { 'file' => "spec/patterns/#{File.basename(path)}", 'name' => (group.chain + [desc]).join(' › '), expectations: [] }
    begin
      inst = group.new
      group.befores.each { |b| inst.instance_exec(&b) }
      inst.instance_exec(&blk)
    rescue NotExtractable, NoMethodError, NameError, TypeError => e
      $current['not_extractable'] = "#{e.class}: #{e.message[0, 200]}"
    end
    c = $current
    next if c.delete(:skipped_by_condition)
    c['expectations'] = c.delete(:expectations)
    # An example whose every expectation is in the ECS branch checks nothing in legacy mode.
    next if c['expectations'].empty? && !c['not_extractable']
    $cases << c
  end
end

puts JSON.pretty_generate({ 'requests' => $requests, 'cases' => $cases })
