/**
 * The media content types the server accepts (PROTOCOL §3.2), and recognising them from
 * a file's first bytes when the browser could not type it (HEIC on many phones).
 *
 * The list must equal sync/content_types.py ACCEPTED_CONTENT_TYPES, the server's;
 * tests/test_content_types_js.py fails when they differ.
 */

export const ACCEPTED_CONTENT_TYPES = Object.freeze([
  'image/jpeg',
  'image/png',
  'image/heic',
  'image/heif',
  'video/mp4',
  'video/quicktime',
  'video/webm',
]);

/** The content type from the first bytes, for files the browser could not type (HEIC...). */
export function sniffType(head) {
  const b = new Uint8Array(head);
  const ascii = (from, to) => String.fromCharCode(...b.slice(from, to));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x89 && ascii(1, 4) === 'PNG') return 'image/png';
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'video/webm';
  if (ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (['heic', 'heix', 'heim', 'heis'].includes(brand)) return 'image/heic';
    if (['mif1', 'msf1'].includes(brand)) return 'image/heif';
    if (brand === 'qt  ') return 'video/quicktime';
    return 'video/mp4';
  }
  if (['moov', 'mdat', 'wide', 'free'].includes(ascii(4, 8))) return 'video/quicktime';
  return null;
}
