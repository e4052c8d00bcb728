/** Generated code for a set of message types: one function per type, each able to call the others. */
import { type MessageType, messageType } from '../api/message-types.js'
import type { BytesCodec } from './bytes-codec.js'

export type MessageFunction = (input: never, codec: BytesCodec) => unknown

export abstract class MessageFunctions {
  private readonly done = new Set<string>()
  private readonly functions: string[] = []
  /** What the generated code reads by index (enum tables, caches): `V[i]`. */
  private readonly values: unknown[] = []

  /**
   * @param prefix of the generated functions' names (`d` → `d_RangeRequest`)
   * @param helpers the functions the generated code calls as `h.name`
   */
  constructor(
    private readonly prefix: string,
    private readonly helpers: object,
  ) {}

  /** The source of the function for this type. */
  protected abstract messageFunction(type: MessageType): string

  /** The generated function of a message type, by name. */
  protected functionOf(name: string): string {
    return `${this.prefix}_${name}`
  }

  /** An expression for a value the generated code needs. */
  protected constant(value: unknown): string {
    this.values.push(value)
    return `V[${this.values.length - 1}]`
  }

  private add(name: string): void {
    if (this.done.has(name)) return
    this.done.add(name)
    const type = messageType(name)
    this.functions.push(this.messageFunction(type))
    for (const f of type.fields) if (f.messageType) this.add(f.messageType)
  }

  /** The functions of these types (the types they contain are generated too). */
  compile(names: string[]): Record<string, MessageFunction> {
    for (const name of names) this.add(name)
    const exported = names.map((n) => `${n}: ${this.functionOf(n)}`).join(', ')
    const source = `'use strict'\n${this.functions.join('\n')}\nreturn { ${exported} }`
    return new Function('h', 'V', source)(this.helpers, this.values) as Record<string, MessageFunction>
  }
}
