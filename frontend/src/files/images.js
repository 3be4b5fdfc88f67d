// Photos on the device: their pixel size, and a smaller copy (longest side 2,048 px) made here
// to save mobile data. The choice is remembered (localStorage `tt-files-downscale`).

const LONGEST = 2048;
const KEY = 'tt-files-downscale';

export const isImage = (type) => /^image\/(jpeg|png|webp|gif|bmp)$/.test(type ?? '');

export function rememberedDownscale() {
  try {
    return globalThis.localStorage?.getItem(KEY) === '1';
  } catch {
    return false;
  }
}

export function rememberDownscale(on) {
  try {
    globalThis.localStorage?.setItem(KEY, on ? '1' : '0');
  } catch {
    // private mode: the choice lasts this visit
  }
}

/** @param {Blob} blob @returns {Promise<{width: number, height: number} | null>} upright size */
export async function imageSize(blob) {
  if (!isImage(blob.type) || typeof createImageBitmap !== 'function') return null;
  try {
    const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  } catch {
    return null;
  }
}

/** A JPEG copy no longer than LONGEST on its longest side (the original when already smaller). */
export async function downscale(file) {
  if (!isImage(file.type) || file.type === 'image/gif') return file;
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const scale = LONGEST / Math.max(bitmap.width, bitmap.height);
  if (scale >= 1) {
    bitmap.close();
    return file;
  }
  const canvas = new OffscreenCanvas(Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
  const name = file.name.replace(/\.[^.]*$/, '') + '.jpg';
  return new File([blob], name, { type: 'image/jpeg' });
}
