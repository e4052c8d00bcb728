/**
 * Finds where each value of a JSON stream ends, one byte at a time, as Go's json.Decoder does before it
 * decodes a value: a byte is looked at once however the stream is cut, and the first byte no JSON
 * value can have there is reported at once. Saying *what* is wrong is left to the reader in json.ts,
 * which re-reads the value (once) for Go's message.
 */
import { isDigit, isHex, isSimpleEscape, maxNestingDepth } from './json.js'

/** What a byte did. */
export const enum Scan {
  /** part of the value under way (or its first byte) */
  Continue,
  /** whitespace between values */
  Space,
  /** the last byte of a value */
  End,
  /** a value (a number) ended just before this byte, which was not taken: give it again */
  EndBefore,
  /** no JSON value can have this byte here */
  Error,
}

const enum S {
  Top,
  Value,
  ArrayFirst,
  ObjectFirst,
  ObjectKey,
  Colon,
  ObjectNext,
  ArrayNext,
  String,
  StringEscape,
  StringHex,
  Minus,
  Zero,
  Int,
  Dot,
  Fraction,
  Exponent,
  ExponentSign,
  ExponentDigits,
  Literal,
}

const OBJECT = 1
const ARRAY = 2

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

export class JsonScanner {
  private state = S.Top
  /** The open containers, innermost last (a scanner per stream: nothing is allocated up front). */
  private stack: number[] = []
  private key = false
  private hexLeft = 0
  private literal = ''
  private literalAt = 0

  /** Between values: the next byte that is not whitespace starts one. */
  get atTop(): boolean {
    return this.state === S.Top
  }

  /** Whether a value under way ends where the stream ends (a number at the top level). */
  get endsAtEof(): boolean {
    return this.stack.length === 0 && (this.state === S.Zero || this.state === S.Int || this.state === S.Fraction || this.state === S.ExponentDigits)
  }

  reset(): void {
    this.state = S.Top
    this.stack = []
  }

  step(c: number): Scan {
    switch (this.state) {
      case S.Top:
        return isSpace(c) ? Scan.Space : this.begin(c)
      case S.Value:
        return isSpace(c) ? Scan.Continue : this.begin(c)
      case S.ArrayFirst:
        if (isSpace(c)) return Scan.Continue
        return c === 0x5d ? this.close() : this.begin(c)
      case S.ObjectFirst:
        if (isSpace(c)) return Scan.Continue
        if (c === 0x7d) return this.close()
        return this.objectKey(c)
      case S.ObjectKey:
        return isSpace(c) ? Scan.Continue : this.objectKey(c)
      case S.Colon:
        if (isSpace(c)) return Scan.Continue
        if (c !== 0x3a) return Scan.Error
        this.state = S.Value
        return Scan.Continue
      case S.ObjectNext:
        if (isSpace(c)) return Scan.Continue
        if (c === 0x2c) this.state = S.ObjectKey
        else if (c === 0x7d) return this.close()
        else return Scan.Error
        return Scan.Continue
      case S.ArrayNext:
        if (isSpace(c)) return Scan.Continue
        if (c === 0x2c) this.state = S.Value
        else if (c === 0x5d) return this.close()
        else return Scan.Error
        return Scan.Continue
      case S.String:
        if (c === 0x22) {
          if (!this.key) return this.ended()
          this.state = S.Colon
        } else if (c === 0x5c) this.state = S.StringEscape
        else if (c < 0x20) return Scan.Error
        return Scan.Continue
      case S.StringEscape:
        if (c === 0x75) {
          this.state = S.StringHex
          this.hexLeft = 4
        } else if (isSimpleEscape(c)) this.state = S.String
        else return Scan.Error
        return Scan.Continue
      case S.StringHex:
        if (!isHex(c)) return Scan.Error
        if (--this.hexLeft === 0) this.state = S.String
        return Scan.Continue
      case S.Minus:
        if (c === 0x30) this.state = S.Zero
        else if (isDigit(c)) this.state = S.Int
        else return Scan.Error
        return Scan.Continue
      case S.Int:
        return isDigit(c) ? Scan.Continue : this.afterInteger(c)
      case S.Zero:
        return this.afterInteger(c)
      case S.Dot:
        if (!isDigit(c)) return Scan.Error
        this.state = S.Fraction
        return Scan.Continue
      case S.Fraction:
        if (isDigit(c)) return Scan.Continue
        if (c === 0x65 || c === 0x45) this.state = S.Exponent
        else return this.numberEnded(c)
        return Scan.Continue
      case S.Exponent:
        if (c === 0x2b || c === 0x2d) this.state = S.ExponentSign
        else if (isDigit(c)) this.state = S.ExponentDigits
        else return Scan.Error
        return Scan.Continue
      case S.ExponentSign:
        if (!isDigit(c)) return Scan.Error
        this.state = S.ExponentDigits
        return Scan.Continue
      case S.ExponentDigits:
        return isDigit(c) ? Scan.Continue : this.numberEnded(c)
      case S.Literal:
        if (c !== this.literal.charCodeAt(this.literalAt)) return Scan.Error
        return ++this.literalAt === this.literal.length ? this.ended() : Scan.Continue
    }
  }

  private begin(c: number): Scan {
    switch (c) {
      case 0x7b:
      case 0x5b:
        if (this.stack.length === maxNestingDepth) return Scan.Error
        this.stack.push(c === 0x7b ? OBJECT : ARRAY)
        this.state = c === 0x7b ? S.ObjectFirst : S.ArrayFirst
        return Scan.Continue
      case 0x22:
        this.key = false
        this.state = S.String
        return Scan.Continue
      case 0x2d:
        this.state = S.Minus
        return Scan.Continue
      case 0x30:
        this.state = S.Zero
        return Scan.Continue
      case 0x74:
        return this.beginLiteral('true')
      case 0x66:
        return this.beginLiteral('false')
      case 0x6e:
        return this.beginLiteral('null')
    }
    if (isDigit(c)) {
      this.state = S.Int
      return Scan.Continue
    }
    return Scan.Error
  }

  /** A fraction, an exponent or the number's end. */
  private afterInteger(c: number): Scan {
    if (c === 0x2e) this.state = S.Dot
    else if (c === 0x65 || c === 0x45) this.state = S.Exponent
    else return this.numberEnded(c)
    return Scan.Continue
  }

  private beginLiteral(word: string): Scan {
    this.literal = word
    this.literalAt = 1
    this.state = S.Literal
    return Scan.Continue
  }

  private objectKey(c: number): Scan {
    if (c !== 0x22) return Scan.Error
    this.key = true
    this.state = S.String
    return Scan.Continue
  }

  private close(): Scan {
    this.stack.pop()
    // between messages a stream's scanner holds no storage
    if (this.stack.length === 0) this.stack = []
    return this.ended()
  }

  /** A value ended with this byte: the stream's, or one inside a container. */
  private ended(): Scan {
    if (this.stack.length === 0) {
      this.state = S.Top
      return Scan.End
    }
    this.state = this.stack[this.stack.length - 1] === OBJECT ? S.ObjectNext : S.ArrayNext
    return Scan.Continue
  }

  /** A number ended before `c`: at the top level the value is done, inside a container `c` goes on. */
  private numberEnded(c: number): Scan {
    if (this.stack.length === 0) {
      this.state = S.Top
      return Scan.EndBefore
    }
    this.ended()
    return this.step(c)
  }
}
