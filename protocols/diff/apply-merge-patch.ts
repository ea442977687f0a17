/** A JSON value as a merge patch carries it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

type JsonObject = Record<string, JsonValue>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sets an own property, also one named `__proto__` (which plain assignment would take as the prototype). */
function setOwn(into: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  else into[key] = value;
}

/**
 * Applies a JSON merge patch (RFC 7386) to `target` and returns the result:
 * objects merge key by key, `null` deletes a key, anything else replaces.
 * `target` is changed in place where it is an object, so applying many
 * patches to one snapshot costs no copies.
 *
 * It walks the patch with a stack of its own rather than by recursion, so a
 * patch of any depth merges without overflowing the call stack (input from
 * outside is bounded before it gets here, but no caller can make this
 * overflow). A key `__proto__` is an ordinary key, never the prototype. A
 * cyclic patch (only possible in memory, never from JSON) is a TypeError.
 *
 * @example
 * ```ts
 * console.log(applyMergePatch({ a: 1, b: { c: 2 } }, { a: null, b: { d: 3 } }));
 * // Logs: { b: { c: 2, d: 3 } }
 * ```
 */
export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const root: JsonObject = isObject(target) ? target : {};
  // Depth-first: `path` holds the patch objects from the root to the one being merged, to tell a cycle from a shared object.
  const pending: { into: JsonObject; from: JsonObject; depth: number }[] = [{ into: root, from: patch, depth: 0 }];
  const path: JsonObject[] = [];
  const onPath = new Set<JsonObject>();
  // Bounded: each turn merges one object of the patch, and a patch has finitely many (a cycle is refused below).
  for (let step = pending.pop(); step !== undefined; step = pending.pop()) {
    const { into, from, depth } = step;
    while (path.length > depth) onPath.delete(path.pop() as JsonObject);
    path.push(from);
    onPath.add(from);
    for (const key of Object.keys(from)) {
      const value = from[key] as JsonValue;
      if (value === null) {
        delete into[key];
      } else if (!isObject(value)) {
        setOwn(into, key, value);
      } else {
        if (onPath.has(value)) throw new TypeError(`merge patch is cyclic at key ${JSON.stringify(key.slice(0, 40))}`);
        const current = Object.hasOwn(into, key) ? into[key] : undefined;
        const child: JsonObject = isObject(current) ? current : {};
        setOwn(into, key, child);
        pending.push({ into: child, from: value, depth: depth + 1 });
      }
    }
  }
  return root;
}
