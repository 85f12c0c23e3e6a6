/** Our payload in Data on a private port, with bitfield set: 239 − 8 bytes of Data overhead. */
export const MESHTASTIC_MTU = 231;
