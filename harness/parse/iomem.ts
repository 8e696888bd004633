/** One /proc/iomem resource; `end` inclusive, children nested by indentation. */
export interface IomemNode {
  start: bigint;
  end: bigint;
  name: string;
  children: IomemNode[];
}

export interface IomemParse {
  roots: IomemNode[];
  /** Lines that are not `<indent><hex>-<hex> : <name>`. */
  stray: string[];
}

// kernel/resource.c r_show(): `%*s%0*llx-%0*llx : %s`, two spaces per depth.
const ROW = /^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$/;

/** Builds the resource tree from `cat /proc/iomem` output. */
export function parseIomem(lines: readonly string[]): IomemParse {
  const roots: IomemNode[] = [];
  const stray: string[] = [];
  // stack[d] is the latest node seen at depth d.
  const stack: IomemNode[] = [];
  for (const text of lines) {
    const match = ROW.exec(text);
    if (!match) {
      if (text.trim() !== '') stray.push(text);
      continue;
    }
    const [, indent = '', start = '', end = '', name = ''] = match;
    const node: IomemNode = { start: BigInt(`0x${start}`), end: BigInt(`0x${end}`), name, children: [] };
    const depth = Math.min(Math.floor(indent.length / 2), stack.length);
    const parent = depth > 0 ? stack[depth - 1] : undefined;
    (parent ? parent.children : roots).push(node);
    stack.length = depth;
    stack.push(node);
  }
  return { roots, stray };
}

/** Every node of the tree, depth first, with its depth. */
export function flattenIomem(roots: readonly IomemNode[], depth = 0): { node: IomemNode; depth: number }[] {
  return roots.flatMap((node) => [{ node, depth }, ...flattenIomem(node.children, depth + 1)]);
}
