/**
 * AMQP topic matching: words separated by `.`, `*` matches exactly one word, `#` zero or more.
 *
 * @example
 *   topicMatches("jobevent.v1.forgejo.*", "jobevent.v1.forgejo.runner-1") // true
 *   topicMatches("jobevent.#", "jobevent") // true
 */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const p = pattern.split(".");
  const k = routingKey.split(".");
  // matches[i][j]: pattern words from i match key words from j.
  const memo = new Map<number, boolean>();
  const match = (i: number, j: number): boolean => {
    const id = i * (k.length + 1) + j;
    const known = memo.get(id);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === p.length) result = j === k.length;
    else if (p[i] === "#") result = match(i + 1, j) || (j < k.length && match(i, j + 1));
    else if (j === k.length) result = false;
    else result = (p[i] === "*" || p[i] === k[j]) && match(i + 1, j + 1);
    memo.set(id, result);
    return result;
  };
  return match(0, 0);
}
