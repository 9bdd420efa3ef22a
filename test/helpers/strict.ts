/**
 * A program as a user writes it and adc's output for it, both type-checked under strict (the
 * project's own compiler options): the messages, each prefixed with its file's name.
 */
import { ts } from "ts-morph";
import { createProject } from "../../compiler/program.js";

export function strictErrors(files: Readonly<Record<string, string>>): string[] {
  const project = createProject();
  const sources = Object.entries(files).map(([name, text]) => project.createSourceFile(`/virtual/${name}`, text));
  return sources.flatMap((f) => f.getPreEmitDiagnostics().map((d) => `${f.getBaseName()}: ${ts.flattenDiagnosticMessageText(d.getMessageText() as string | ts.DiagnosticMessageChain, "\n")}`));
}
