/**
 * The little XML S3 needs: a builder for response documents and a strict parser for the handful of
 * request bodies (configurations, tagging, Delete, CompleteMultipartUpload). The parser never expands
 * DTDs or external entities, so a hostile body cannot make it fetch or balloon.
 */
import { AwsError } from '../../core/types';

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

export type XmlValue = string | number | boolean | Date | undefined | XmlFields | XmlValue[];
export interface XmlFields {
  [name: string]: XmlValue;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        // XML 1.0 forbids these characters raw; S3 sends them as character references too.
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

/** Arrays become repeated elements of the same name (S3's flattened lists); undefined is left out. */
function render(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => render(name, v)).join('');
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value)
      .map(([k, v]) => render(k, v))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function xmlDocument(
  root: string,
  body: XmlFields | string,
  namespace: string | null = S3_NAMESPACE,
): string {
  const ns = namespace ? ` xmlns="${namespace}"` : '';
  const inner =
    typeof body === 'string'
      ? escapeXml(body)
      : Object.entries(body)
          .map(([k, v]) => render(k, v))
          .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns}>${inner}</${root}>`;
}

export interface XmlElement {
  /** Local name, namespace prefix removed. */
  name: string;
  children: XmlElement[];
  text: string;
}

export function malformedXml(): AwsError {
  return new AwsError(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
    400,
  );
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (_match, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    const named = ENTITIES[ref];
    if (named === undefined) throw malformedXml();
    return named;
  });
}

const NAME = /[A-Za-z_][\w.:-]*/y;
// Attributes (only xmlns in practice) carry nothing S3 reads; quoted values may hold '>'.
const ATTRIBUTES_AND_END = /(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>/y;

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  document(): XmlElement {
    this.misc();
    if (this.src.startsWith('<!DOCTYPE', this.i)) throw malformedXml();
    const root = this.element();
    this.misc();
    if (this.i !== this.src.length) throw malformedXml();
    return root;
  }

  /** Whitespace, comments and processing instructions, which may surround the root. */
  private misc(): void {
    for (;;) {
      while (this.i < this.src.length && /\s/.test(this.src[this.i] as string)) this.i++;
      if (this.src.startsWith('<?', this.i)) this.skipPast('?>');
      else if (this.src.startsWith('<!--', this.i)) this.skipPast('-->');
      else return;
    }
  }

  private match(re: RegExp): RegExpExecArray {
    re.lastIndex = this.i;
    const m = re.exec(this.src);
    if (!m) throw malformedXml();
    this.i = re.lastIndex;
    return m;
  }

  private skipPast(end: string): string {
    const at = this.src.indexOf(end, this.i);
    if (at < 0) throw malformedXml();
    const skipped = this.src.slice(this.i, at);
    this.i = at + end.length;
    return skipped;
  }

  private element(): XmlElement {
    if (this.src[this.i] !== '<') throw malformedXml();
    this.i++;
    const qname = this.match(NAME)[0];
    const selfClosing = this.match(ATTRIBUTES_AND_END)[1] === '/';
    const el: XmlElement = { name: qname.slice(qname.indexOf(':') + 1), children: [], text: '' };
    if (selfClosing) return el;
    let text = '';
    for (;;) {
      if (this.i >= this.src.length) throw malformedXml();
      if (this.src.startsWith('</', this.i)) {
        this.i += 2;
        const close = this.skipPast('>').trim();
        if (close !== qname) throw malformedXml();
        el.text = el.children.length > 0 ? text.trim() : text;
        return el;
      }
      if (this.src.startsWith('<![CDATA[', this.i)) {
        this.i += 9;
        text += this.skipPast(']]>');
      } else if (this.src.startsWith('<!--', this.i)) {
        this.skipPast('-->');
      } else if (this.src.startsWith('<?', this.i)) {
        this.skipPast('?>');
      } else if (this.src[this.i] === '<') {
        el.children.push(this.element());
      } else {
        const next = this.src.indexOf('<', this.i);
        const end = next < 0 ? this.src.length : next;
        text += decodeEntities(this.src.slice(this.i, end));
        this.i = end;
      }
    }
  }
}

/** Parses a request body; throws MalformedXML (400) for anything that is not well-formed. */
export function parseXml(body: Buffer | string, expectedRoot?: string): XmlElement {
  const src = typeof body === 'string' ? body : body.toString('utf8');
  const root = new Parser(src.replace(/^\uFEFF/, '')).document();
  if (expectedRoot && root.name !== expectedRoot) throw malformedXml();
  return root;
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

export function childText(el: XmlElement, name: string): string | undefined {
  return child(el, name)?.text;
}

/** `true`/`false` as S3 spells them; anything else is a schema error. */
export function childBoolean(el: XmlElement, name: string): boolean | undefined {
  const text = childText(el, name)?.trim();
  if (text === undefined) return undefined;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw malformedXml();
}
