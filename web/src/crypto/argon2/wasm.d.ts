// Vite turns `import x from "./file.wasm?inline"` into the file's bytes as a data: URL inside the importing chunk.
declare module "*.wasm?inline" {
  const dataUrl: string;
  export default dataUrl;
}
