/**
 * A credential from the config. Every way of turning it into text (String(), template literals,
 * JSON.stringify, console.log / util.inspect, YAML output) yields `<secret>`, as Prometheus'
 * config.Secret does; only reveal() gives the value, so each use of the real value is greppable.
 */
import util from 'node:util';

export const SECRET_TOKEN = '<secret>';

export class Secret {
  // A true private field: not enumerable, not reachable via Object.keys, inspect or structuredClone.
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  reveal(): string {
    return this.#value;
  }

  /** Compares values without exposing them (used to tell whether a reload changed credentials). */
  equals(other: Secret | undefined): boolean {
    return other !== undefined && other.#value === this.#value;
  }

  toString(): '<secret>' {
    return SECRET_TOKEN;
  }

  toJSON(): '<secret>' {
    return SECRET_TOKEN;
  }

  [Symbol.toPrimitive](): string {
    return SECRET_TOKEN;
  }

  [util.inspect.custom](): string {
    return SECRET_TOKEN;
  }
}
