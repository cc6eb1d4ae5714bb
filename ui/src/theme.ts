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

/**
 * The host's style variables (MCP Apps' `hostContext.styles.variables`) that stand for ours, so the app
 * looks like the conversation around it. Ours that the host has no word for (the status pills' own
 * colours, the output's dark panel) stay the theme's.
 */
const FROM_HOST: ReadonlyArray<readonly [ours: string, host: string]> = [
  ["--fg", "--color-text-primary"],
  ["--muted", "--color-text-secondary"],
  ["--bg", "--color-background-primary"],
  ["--panel", "--color-background-secondary"],
  ["--hover", "--color-background-tertiary"],
  ["--line", "--color-border-primary"],
  ["--control-line", "--color-border-secondary"],
  ["--focus", "--color-ring-primary"],
  ["--bad", "--color-text-danger"],
  ["--bad-bg", "--color-background-danger"],
  ["--bad-line", "--color-border-danger"],
  ["--ok", "--color-text-success"],
  ["--ok-bg", "--color-background-success"],
  ["--busy", "--color-text-warning"],
  ["--busy-bg", "--color-background-warning"],
  ["--busy-line", "--color-border-warning"],
  ["--done", "--color-text-info"],
  ["--done-bg", "--color-background-info"],
  ["--disabled", "--color-text-disabled"],
  ["--disabled-line", "--color-border-disabled"],
  ["--sans", "--font-sans"],
  ["--mono", "--font-mono"]
]

/**
 * Takes the host's variables over the theme's, each it gives; one it no longer gives is the theme's again.
 * Hosts give plain values or `light-dark(…)` ones, which follow the root's color-scheme (the theme's).
 */
export const applyHostStyles = (variables: Readonly<Record<string, string | undefined>> | undefined) => {
  const root = document.documentElement.style
  for (const [ours, host] of FROM_HOST) {
    const value = variables?.[host]?.trim()
    if (value === undefined || value === "") root.removeProperty(ours)
    else root.setProperty(ours, value)
  }
}
