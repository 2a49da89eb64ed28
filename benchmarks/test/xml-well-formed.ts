/**
 * Parses `text` as XML just enough to prove it well-formed: one root, balanced and properly
 * nested tags, quoted attributes, no stray `<` or `&`. Returns the element names in document
 * order; throws at the first problem.
 */
export function parseXmlElements(text: string): { name: string; attributes: Record<string, string>; text: string }[] {
  const elements: { name: string; attributes: Record<string, string>; text: string }[] = [];
  const open: { name: string; index: number }[] = [];
  let roots = 0;
  let i = 0;
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, '');
  const entity = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/iy;
  while (i < body.length) {
    const c = body[i];
    if (c === '<') {
      const close = body.indexOf('>', i);
      if (close < 0) throw new Error(`unterminated tag at ${i}`);
      const tag = body.slice(i + 1, close);
      if (tag.startsWith('/')) {
        const name = tag.slice(1).trim();
        const top = open.pop();
        if (!top || top.name !== name) throw new Error(`</${name}> closes <${top?.name ?? 'nothing'}> at ${i}`);
      } else {
        const selfClosing = tag.endsWith('/');
        const match = /^([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*\/?$/.exec(tag);
        if (!match) throw new Error(`malformed tag <${tag}> at ${i}`);
        if (open.length === 0 && ++roots > 1) throw new Error('more than one root element');
        const attributes: Record<string, string> = {};
        for (const [, key, value] of match[2].matchAll(/([\w:.-]+)="([^"]*)"/g)) {
          if (key in attributes) throw new Error(`duplicate attribute ${key} in <${match[1]}>`);
          attributes[key] = value;
        }
        elements.push({ name: match[1], attributes, text: '' });
        if (!selfClosing) open.push({ name: match[1], index: elements.length - 1 });
      }
      i = close + 1;
    } else {
      if (c === '&') {
        entity.lastIndex = i;
        if (!entity.test(body)) throw new Error(`bare & at ${i}`);
      } else if (open.length === 0 && !/\s/.test(c)) throw new Error(`text outside the root at ${i}`);
      if (open.length) elements[open[open.length - 1].index].text += c;
      i++;
    }
  }
  if (open.length) throw new Error(`unclosed <${open[open.length - 1].name}>`);
  if (roots !== 1) throw new Error('no root element');
  return elements;
}
