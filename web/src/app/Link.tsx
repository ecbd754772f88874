import type { ComponentChildren } from "preact";
import { currentPath, navigate } from "./router";

/** An in-app link: a real <a href> (keyboard, middle-click, copy link all work) that navigates without a reload. */
export function Link(props: { href: string; children: ComponentChildren; class?: string; nav?: boolean }) {
  const active = props.nav && (currentPath.value === props.href || (props.href !== "/app" && currentPath.value.startsWith(props.href + "/")));
  return (
    <a
      href={props.href}
      class={props.class}
      aria-current={active ? "page" : undefined}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}
