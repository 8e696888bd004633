/** Text helpers shared by the XML writers (JUnit, SVG). */

// XML 1.0 Char production: TAB, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF.
// With the `u` flag a lone surrogate is one code point outside every range, so it goes too.
const INVALID_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Drops characters XML 1.0 cannot carry at all, not even as references (NUL, ESC from a serial capture, lone surrogates…). */
export function stripInvalidXml(text: string): string {
  return text.replace(INVALID_XML_CHAR, '');
}

/** Character data for element content. */
export function xmlText(text: string): string {
  return stripInvalidXml(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * An attribute value for use inside double quotes. Whitespace other than the
 * space becomes a character reference, because a parser normalises a literal
 * newline or tab in an attribute to a space.
 */
export function xmlAttr(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

/** ` name="value"` for each defined attribute, in the given order. */
export function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${xmlAttr(String(value))}"`)
    .join('');
}
