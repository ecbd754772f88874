// The app's entry (app.html): render the shell, then ask the refresh cookie whether a session survives.
import { render } from "preact";
import { App } from "./App";
import { resume } from "../identity/service";

const root = document.getElementById("app")!;
root.textContent = ""; // the static "Loading Veil…" (Preact's render would keep it beside the app)
render(<App />, root);
void resume();
