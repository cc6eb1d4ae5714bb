/**
 * Light or dark: in the MCP App, the host's theme when it gives one; else (the page, or a host that says
 * nothing) the system's. style.css keys its dark colours on the root's data-theme.
 */
export type Theme = "light" | "dark"

export const applyTheme = (theme: Theme) => {
  document.documentElement.dataset.theme = theme
}

/** Follows the system's theme as it changes, until the function it returns is called. */
export const followSystemTheme = (): () => void => {
  const dark = window.matchMedia("(prefers-color-scheme: dark)")
  const apply = () => applyTheme(dark.matches ? "dark" : "light")
  apply()
  dark.addEventListener("change", apply)
  return () => dark.removeEventListener("change", apply)
}
