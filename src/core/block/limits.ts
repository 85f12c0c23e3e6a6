/** Heights and slots stay within 2^48, well inside exact JavaScript integers. */
export const MAX_HEIGHT = 2 ** 48 - 1;
export const MAX_SLOT = 2 ** 48 - 1;
/** Unix seconds; a u32 lasts until 2106. */
export const MAX_TIMESTAMP = 0xffffffff;
export const BLOCK_VERSION = 1;
/** Hard cap on an encoded block, whatever the parameters say: 16 KiB. */
export const MAX_BLOCK_BYTES = 16 * 1024;
export const MAX_BLOCK_TXS = 1024;
