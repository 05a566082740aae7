import type { Origin, SourceMap } from './yaml-file.ts';
import { fromPointer, toPointer } from './pointer.ts';

export type { Origin };

/** Where each key and value of a composed config came from: file positions or command-line arguments. */
export class Origins {
  readonly keys = new Map<string, Origin>();
  readonly values = new Map<string, Origin>();

  constructor(readonly fallback: Origin) {}

  /** Lays a layer over this one; where the layer replaces a list or scalar, what stood under it is forgotten. */
  overlay(layer: SourceMap, replaced: Iterable<string>): void {
    for (const pointer of replaced) this.forgetBelow(pointer);
    for (const [pointer, origin] of layer.keys) this.keys.set(pointer, origin);
    for (const [pointer, origin] of layer.values) this.values.set(pointer, origin);
  }

  /** Records that an argument set `pointer` (and everything under it). */
  setByArgument(pointer: string, origin: Origin): void {
    this.forgetBelow(pointer);
    this.keys.set(pointer, origin);
    this.values.set(pointer, origin);
  }

  private forgetBelow(pointer: string): void {
    for (const map of [this.keys, this.values]) {
      for (const key of [...map.keys()]) if (key.startsWith(`${pointer}/`)) map.delete(key);
    }
  }

  /** The value's position, or its key's, or the nearest enclosing one's. */
  ofValue(pointer: string): Origin {
    return this.nearest(pointer, this.values);
  }

  /** The key's position, or the nearest enclosing one's. */
  ofKey(pointer: string): Origin {
    return this.nearest(pointer, this.keys);
  }

  private nearest(pointer: string, preferred: Map<string, Origin>): Origin {
    const exact = preferred.get(pointer) ?? this.keys.get(pointer) ?? this.values.get(pointer);
    if (exact) return exact;
    // A value built by an argument (a.b.c=1 creates a and a.b): point at what wrote inside it.
    for (const [at, origin] of this.values) if (at.startsWith(`${pointer}/`)) return origin;
    const path = fromPointer(pointer);
    for (let depth = path.length - 1; depth >= 0; depth--) {
      const at = toPointer(path.slice(0, depth));
      const found = preferred.get(at) ?? this.keys.get(at) ?? this.values.get(at);
      if (found) return found;
    }
    return this.fallback;
  }
}
