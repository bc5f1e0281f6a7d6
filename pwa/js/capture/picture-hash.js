/**
 * What a photo shows, as a 64-bit difference hash (16 hex digits): the photo shrunk to
 * 9×8 grey pixels, one bit per pair of neighbours. Pixel-identical copies of a picture
 * get the same hash whatever their EXIF says, so the evidence checklist counts them as
 * one picture (issue 26; the server does the same with its perceptual hash).
 */

/** The photo's hash, or null when the browser cannot decode it. */
export async function pictureHash(file) {
  try {
    const bitmap = await createImageBitmap(file, { resizeWidth: 9, resizeHeight: 8, resizeQuality: 'medium' });
    const canvas = typeof OffscreenCanvas === 'function'
      ? new OffscreenCanvas(9, 8)
      : Object.assign(document.createElement('canvas'), { width: 9, height: 8 });
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bitmap, 0, 0, 9, 8);
    bitmap.close?.();
    const { data } = ctx.getImageData(0, 0, 9, 8);
    const grey = [];
    for (let i = 0; i < data.length; i += 4) grey.push(data[i] * 299 + data[i + 1] * 587 + data[i + 2] * 114);
    let hex = '';
    for (let y = 0; y < 8; y++) {
      let nibble = 0;
      for (let x = 0; x < 8; x++) {
        nibble = (nibble << 1) | (grey[y * 9 + x] > grey[y * 9 + x + 1] ? 1 : 0);
        if (x % 4 === 3) {
          hex += nibble.toString(16);
          nibble = 0;
        }
      }
    }
    return hex;
  } catch {
    return null;
  }
}
