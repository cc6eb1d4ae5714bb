/** The files a project's tasks are read from, in the order looked for (the first found is read). */
export const TASK_FILE_NAMES = ["taskmux.yaml", "taskmux.yml", "taskmux.json", "Procfile"] as const
