// The app's entry (app.html): render the shell, then ask the refresh cookie whether a session survives.
import { render } from "preact";
import { App } from "./App";
import { resume } from "../identity/service";
import { warmKdfOnPasswordFocus } from "../crypto/kdf";

const root = document.getElementById("app")!;
// The static "Loading Veil…" placeholder is not Preact's: render() would keep it below the app, so it goes first.
root.replaceChildren();
render(<App />, root);
void resume();
warmKdfOnPasswordFocus();
