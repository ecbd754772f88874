// The app's entry (app.html): render the shell, then ask the refresh cookie whether a session survives.
import { render } from "preact";
import { App } from "./App";
import { resume } from "../identity/service";

render(<App />, document.getElementById("app")!);
void resume();
