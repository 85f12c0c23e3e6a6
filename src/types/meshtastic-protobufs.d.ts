// @meshtastic/protobufs 2.7.18 names its typings dist/mod.d.ts in package.json but ships them as
// dist/mod-D6ytgKaP.d.ts; this points TypeScript at the real file (see docs/decisions.md).
declare module "@meshtastic/protobufs" {
  export * from "@meshtastic/protobufs/dist/mod-D6ytgKaP.js";
}
