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

/** XML 1.0's Char production: what a document (raw or through a character reference) may contain. */
function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Raw characters XML forbids: C0 controls other than tab and line breaks, lone surrogates, U+FFFE/U+FFFF. */
const NOT_XML_CHAR =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function decodeEntities(text: string): string {
  // Every '&' must start a reference: the five named ones or a character reference to an XML Char.
  return text.replace(/&([^;&<]*);?/g, (match, ref: string) => {
    if (!match.endsWith(';')) throw malformedXml();
    const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (numeric) {
      const cp =
        numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number.parseInt(numeric[2] ?? '', 10);
      if (!isXmlChar(cp)) throw malformedXml();
      return String.fromCodePoint(cp);
    }
    const named = ENTITIES[ref];
    if (named === undefined) throw malformedXml();
    return named;
  });
}

/**
 * No S3 request document nests deeper than a handful of elements (a lifecycle rule's
 * Filter/And/Tag is the deepest); a limit keeps a hostile 100,000-deep body from exhausting the stack.
 */
const MAX_DEPTH = 64;

const NAME = /[A-Za-z_][\w.:-]*/y;
// Attributes (only xmlns in practice) carry nothing S3 reads; quoted values may hold '>'.
const ATTRIBUTES_AND_END = /(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>/y;

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  document(): XmlElement {
    if (NOT_XML_CHAR.test(this.src)) throw malformedXml();
    this.misc();
    if (this.src.startsWith('<!DOCTYPE', this.i)) throw malformedXml();
    const root = this.element(1);
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

  private element(depth: number): XmlElement {
    if (depth > MAX_DEPTH || this.src[this.i] !== '<') throw malformedXml();
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
        el.children.push(this.element(depth + 1));
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
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function parseXml(body: Buffer | string, expectedRoot?: string): XmlElement {
  let src: string;
  try {
    src = typeof body === 'string' ? body : strictUtf8.decode(body);
  } catch {
    throw malformedXml();
  }
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
