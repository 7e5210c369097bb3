import { type Document, getLocation, type Node } from "@bgotink/kdl";
import type { KdlNode, KdlValue, NodePositions } from "./kdl-document.ts";
import type { SourceLines } from "./source-lines.ts";
import type { SourceLocation } from "./workflow-types.ts";

// A @bgotink/kdl document (parsed with `storeLocations`; KDL 1, or KDL 2 where kdljs falls short)
// as the node tree and positions the workflow checker reads: the shape kdljs gives for KDL 2.

/** The nodes of a document and their positions, in the same order. */
export interface BgotinkKdlTree {
  readonly nodes: KdlNode[];
  readonly positions: NodePositions[];
}

function startOf(element: Parameters<typeof getLocation>[0], lines: SourceLines): SourceLocation {
  const offset = getLocation(element)?.start.offset;
  return offset === undefined ? { line: 1, column: 1 } : lines.locationOf(offset);
}

function convertNode(node: Node, lines: SourceLines): { node: KdlNode; positions: NodePositions } {
  const values: KdlValue[] = [];
  const valuePositions: SourceLocation[] = [];
  // No prototype: a key such as `__proto__` is a property like any other.
  const properties = Object.create(null) as Record<string, KdlValue>;
  const propertyPositions = new Map<string, SourceLocation>();
  for (const entry of node.entries) {
    const key = entry.getName();
    if (key === null) {
      values.push(entry.getValue());
      valuePositions.push(startOf(entry, lines));
    } else {
      properties[key] = entry.getValue();
      // A repeated key keeps its last value; its position moves to the last one too.
      propertyPositions.delete(key);
      propertyPositions.set(key, startOf(entry.name ?? entry, lines));
    }
  }
  const children = bgotinkKdlTree(node.children ?? { nodes: [] }, lines);
  return {
    node: { name: node.getName(), values, properties, children: children.nodes },
    positions: {
      name: node.getName(),
      location: startOf(node, lines),
      properties: propertyPositions,
      values: valuePositions,
      children: children.positions,
    },
  };
}

/** The (non-slashdashed) nodes of `document`, with positions counted by `lines`. */
export function bgotinkKdlTree(document: Pick<Document, "nodes">, lines: SourceLines): BgotinkKdlTree {
  const nodes: KdlNode[] = [];
  const positions: NodePositions[] = [];
  for (const node of document.nodes) {
    const converted = convertNode(node, lines);
    nodes.push(converted.node);
    positions.push(converted.positions);
  }
  return { nodes, positions };
}
