import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import { loadListing } from "./pages/permissions/data";
import "./styles.css";

// Printing shows everything: open the collapsed sections first.
window.addEventListener("beforeprint", () => {
  for (const d of document.querySelectorAll("details")) d.open = true;
});

// The explorer's list is its largest request: sent before the first render.
if (location.pathname === "/explorer") loadListing().catch(() => undefined);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
