/**
 * A small strict XML reader for tests: it accepts the subset a standalone SVG uses (declaration,
 * elements, double-quoted attributes, text, entities) and throws on anything not well-formed:
 * unclosed or mismatched tags, duplicate attributes, a bare '&' or '<', text after the root.
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const ENTITY = /&(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function checkText(text: string, where: number): string {
  if (text.replace(ENTITY, '').includes('&')) throw new Error(`bare & at ${where}`);
  return text.replace(ENTITY, (e) => {
    switch (e) {
      case '&lt;': return '<';
      case '&gt;': return '>';
      case '&amp;': return '&';
      case '&quot;': return '"';
      case '&apos;': return "'";
      default: return String.fromCodePoint(e[2] === 'x' ? parseInt(e.slice(3, -1), 16) : Number(e.slice(2, -1)));
    }
  });
}

export function parseXml(xml: string): XmlElement {
  const body = xml.replace(/^<\?xml[^?]*\?>/, '');
  const document: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [document];
  const token = /<\/([A-Za-z_][\w:.-]*)\s*>|<([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*"[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)/y;
  let position = 0;
  while (position < body.length) {
    token.lastIndex = position;
    const match = token.exec(body);
    if (!match) throw new Error(`not well-formed XML at ${position}: ${JSON.stringify(body.slice(position, position + 40))}`);
    position = token.lastIndex;
    const [, closing, opening, attributeText, selfClosing, text] = match;
    const parent = stack[stack.length - 1]!;
    if (closing) {
      if (parent.name !== closing) throw new Error(`</${closing}> closes <${parent.name}>`);
      stack.pop();
    } else if (opening) {
      if (parent === document && document.children.length > 0) throw new Error('more than one root element');
      const attributes: Record<string, string> = {};
      for (const [, key, value] of attributeText!.matchAll(/([A-Za-z_][\w:.-]*)\s*=\s*"([^"]*)"/g)) {
        if (key! in attributes) throw new Error(`duplicate attribute ${key} on <${opening}>`);
        attributes[key!] = checkText(value!, position);
      }
      const element: XmlElement = { name: opening, attributes, children: [], text: '' };
      parent.children.push(element);
      if (!selfClosing) stack.push(element);
    } else if (text !== undefined) {
      if (parent === document && text.trim() !== '') throw new Error('text outside the root element');
      parent.text += checkText(text, position);
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1]!.name}> is never closed`);
  const root = document.children[0];
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element below (and including) root, depth first. */
export function allElements(root: XmlElement): XmlElement[] {
  const out: XmlElement[] = [root];
  for (const child of root.children) out.push(...allElements(child));
  return out;
}
