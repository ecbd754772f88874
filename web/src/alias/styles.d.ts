// Stylesheets imported by modules are bundled by Vite (emitted as .css files, linked from the page: no inline style).
declare module "*.css";
