import t from 'tap'
import { EtcdError } from '../../src/errors.js'
import { JsonNumber, JsonObject, parseWhole, readFirstValue, readValueAt, unquote, ValueInParts } from '../../src/http/codec/json.js'

/** The message etcd's gateway answered for this body (measured on etcd 3.4.23). */
function decodeError(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof EtcdError && err.grpcCode === 3) return err.message
    throw err
  }
  return 'no error'
}

const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1')

t.test('reads the first value and ignores what follows, as json.Decoder', async (t) => {
  const obj = readFirstValue('{"key":"Zm9v"} xyz') as JsonObject
  t.ok(obj instanceof JsonObject)
  t.same(obj.names, ['key'])
  t.same(obj.values, ['Zm9v'])
  t.ok(readFirstValue('{"key":"Zm9v"}}') instanceof JsonObject)
  t.equal(readFirstValue('nullx'), null)
  t.same(readFirstValue('1x'), new JsonNumber('1'))
  t.equal(readFirstValue('"x"y'), 'x')
  t.equal(readFirstValue(''), undefined, 'empty body is io.EOF')
  t.equal(readFirstValue(' \t\r\n'), undefined)
})

t.test('keeps number literals and raw string text', async (t) => {
  const obj = readFirstValue('{"a":-12.5e+3,"b":"x\\u0041\\n","c":[true,false,null,{}]}') as JsonObject
  t.same(obj.get('a'), new JsonNumber('-12.5e+3'))
  t.equal(obj.get('b'), 'x\\u0041\\n')
  t.same(obj.get('c'), [true, false, null, new JsonObject()])
  t.equal(obj.get('d'), undefined)
})

t.test('duplicate names: the last wins; escaped names are decoded', async (t) => {
  const obj = readFirstValue('{"a":1,"a":2,"k\\u0065y":3}') as JsonObject
  t.same(obj.get('a'), new JsonNumber('2'))
  t.same(obj.get('key'), new JsonNumber('3'))
})

/** Bodies and the message etcd's gateway answered for each (json.Decoder). */
const syntaxErrors: [string, string][] = [
  ['x', "invalid character 'x' looking for beginning of value"],
  ['{', 'unexpected EOF'],
  ['{"key"', 'unexpected EOF'],
  ['{"key":', 'unexpected EOF'],
  ['{"key":"Zm9v"', 'unexpected EOF'],
  ['{"key":"Zm9v",', 'unexpected EOF'],
  ['tru', 'unexpected EOF'],
  ['nul', 'unexpected EOF'],
  ['{"key" "Zm9v"}', `invalid character '"' after object key`],
  ['{key:1}', "invalid character 'k' looking for beginning of object key string"],
  ["{'key':1}", "invalid character '\\'' looking for beginning of object key string"],
  ['{"key":"Zm9v",}', "invalid character '}' looking for beginning of object key string"],
  ['{"key":"Zm9v"]', "invalid character ']' after object key:value pair"],
  ['{"key":tru}', "invalid character '}' in literal true (expecting 'e')"],
  ['{"key":fals}', "invalid character '}' in literal false (expecting 'e')"],
  ['{"key":nulL}', "invalid character 'L' in literal null (expecting 'l')"],
  ['{"key":"\\x"}', "invalid character 'x' in string escape code"],
  ['{"key":"\\u12"}', `invalid character '"' in \\u hexadecimal character escape`],
  ['{"key":01}', "invalid character '1' after object key:value pair"],
  ['{"key":-}', "invalid character '}' in numeric literal"],
  ['{"key":-a}', "invalid character 'a' in numeric literal"],
  ['{"key":1.}', "invalid character '}' after decimal point in numeric literal"],
  ['{"key":1.e5}', "invalid character 'e' after decimal point in numeric literal"],
  ['{"key":1e}', "invalid character '}' in exponent of numeric literal"],
  ['{"key":1e+}', "invalid character '}' in exponent of numeric literal"],
  ['{"key":"ab\nc"}', "invalid character '\\n' in string literal"],
  ['{"key":"\x08"}', "invalid character '\\b' in string literal"],
  ['{"key":"\x01"}', "invalid character '\\x01' in string literal"],
  ['{"key":\x7f}', "invalid character '\\x7f' looking for beginning of value"],
  ['{"key":<}', "invalid character '<' looking for beginning of value"],
  ['{"x":[1,]}', "invalid character ']' looking for beginning of value"],
  ['{"x":[1 2]}', "invalid character '2' after array element"],
  [bytes('\ufeff{}'), "invalid character 'ï' looking for beginning of value"],
  ['{"x":\xc2\xa0}', "invalid character 'Â' looking for beginning of value"],
  ['{"x":\xa9}', "invalid character '©' looking for beginning of value"],
  ['{"x":\xad}', "invalid character '\\u00ad' looking for beginning of value"],
  ['{"x":\x80}', "invalid character '\\u0080' looking for beginning of value"],
]

t.test("syntax errors carry Go's messages (json.Decoder)", async (t) => {
  for (const [body, message] of syntaxErrors) t.equal(decodeError(() => readFirstValue(body)), message, JSON.stringify(body))
})

t.test('nesting deeper than 10000 levels fails as in Go', async (t) => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)
  let v = readFirstValue(deep(10000))
  let depth = 0
  while (Array.isArray(v)) {
    depth++
    v = v[0]
  }
  t.equal(depth, 10000, '10000 levels are read')
  t.equal(decodeError(() => readFirstValue(deep(10001))), "invalid character '[' exceeded max depth")
  t.equal(decodeError(() => readFirstValue(`{"x":${deep(10000)}}`)), "invalid character '[' exceeded max depth")
})

/** The value of `text` read in parts of `chars` characters, and how many parts it took. */
function readInParts(text: string, chars: number): { value: unknown; parts: number } {
  const reading = new ValueInParts(text)
  for (let parts = 1; ; parts++) {
    const value = reading.readOn(chars)
    if (value !== undefined) return { value, parts }
  }
}

t.test('read in parts, a value is the one readValueAt reads, and so is an error', async (t) => {
  const values = [
    '{"create_request":{"key":"eA==","filters":[0,1,0],"prev_kv":true}}',
    ' {"a":[{"b":[1,-2.5e3,{"c":"x\\u0041"}]},"yy",null,true],"d":{},"e":[],"a":7} ',
    '[[[[[]],[[1]]]]]',
    '"abc"',
    '-12',
  ]
  for (const text of values) {
    for (const chars of [1, 2, 3, 5, 1000]) t.same(readInParts(text, chars).value, readValueAt(text, 0)!.value, `${text} in parts of ${chars}`)
  }
  for (const [text, message] of syntaxErrors) {
    for (const chars of [1, 4]) t.equal(decodeError(() => readInParts(text, chars)), message, `${JSON.stringify(text)} in parts of ${chars}`)
  }
  const deep = '['.repeat(10001) + ']'.repeat(10001)
  t.equal(decodeError(() => readInParts(deep, 100)), "invalid character '[' exceeded max depth")
})

t.test('read in parts, a large array takes a part per so many characters', async (t) => {
  const text = `[${'0,'.repeat(50_000)}0]`
  const { value, parts } = readInParts(text, 10_000)
  t.equal((value as JsonNumber[]).length, 50_001)
  t.equal(parts, 11, '100,002 characters in parts of 10,000')
})

t.test("parseWhole: json.Unmarshal's messages at the end of input and after the value", async (t) => {
  const cases: [string, string][] = [
    ['', 'unexpected end of JSON input'],
    [' ', 'unexpected end of JSON input'],
    ['{', 'unexpected end of JSON input'],
    ['[1', 'unexpected end of JSON input'],
    ['"abc', 'unexpected end of JSON input'],
    ['-', "invalid character ' ' in numeric literal"],
    ['1.', "invalid character ' ' after decimal point in numeric literal"],
    ['1.5e', "invalid character ' ' in exponent of numeric literal"],
    ['tru', "invalid character ' ' in literal true (expecting 'e')"],
    ['"\\', "invalid character ' ' in string escape code"],
    ['"\\u12', "invalid character ' ' in \\u hexadecimal character escape"],
    ['1 2', "invalid character '2' after top-level value"],
    ['01', "invalid character '1' after top-level value"],
    ['1x', "invalid character 'x' after top-level value"],
    ['+1', "invalid character '+' looking for beginning of value"],
    ['\\u0035', "invalid character '\\\\' looking for beginning of value"],
  ]
  for (const [text, message] of cases) t.equal(decodeError(() => parseWhole(text)), message, JSON.stringify(text))
  t.same(parseWhole(' 5 '), new JsonNumber('5'))
  t.equal(parseWhole('null'), null)
})

t.test("unquote: Go's string decoding into bytes", async (t) => {
  t.equal(unquote('Zm9v'), 'Zm9v')
  t.equal(unquote('a\\"\\\\\\/\\b\\f\\n\\r\\t'), 'a"\\/\b\f\n\r\t')
  t.equal(unquote('\\u005a'), 'Z')
  t.equal(unquote('\\u00e9'), bytes('é'))
  t.equal(unquote('\\ud83d\\ude00'), bytes('😀'), 'surrogate pair')
  t.equal(unquote('\\ud800x'), bytes('\ufffdx'), 'lone surrogate')
  t.equal(unquote(bytes('é')), bytes('é'), 'valid UTF-8 kept')
  t.equal(unquote('\xff\\n'), bytes('\ufffd\n'), 'invalid UTF-8 replaced')
  t.equal(unquote('\xed\xa0\x80'), bytes('\ufffd\ufffd\ufffd'), 'encoded surrogates are invalid')
})
