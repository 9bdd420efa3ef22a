/**
 * Walks a TypeScript syntax tree without recursion. tsc reads a 10,000-term sum (its binder and
 * checker keep their own stacks); a recursive visitor takes a few stack frames per level and
 * overflows long before that, so every walk over user code that can meet such input goes
 * through here.
 */
import { ts } from "ts-morph";

/**
 * Calls `visit` on `root` and every node below it, in source order. `visit` returns false to
 * skip a node's children, or "stop" to end the walk.
 */
export function forEachNode(root: ts.Node, visit: (n: ts.Node) => boolean | "stop" | void): void {
  const stack: ts.Node[] = [root];
  const children: ts.Node[] = [];
  while (stack.length) {
    const n = stack.pop()!;
    const r = visit(n);
    if (r === "stop") return;
    if (r === false) continue;
    children.length = 0;
    ts.forEachChild(n, (c) => void children.push(c));
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
}

/** Whether some node at or below `root` satisfies `test`. */
export function someNode(root: ts.Node, test: (n: ts.Node) => boolean): boolean {
  let found = false;
  forEachNode(root, (n) => {
    if (!test(n)) return;
    found = true;
    return "stop";
  });
  return found;
}
