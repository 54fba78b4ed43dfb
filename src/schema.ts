import { ValidationError } from "./errors.ts";

/**
 * The Standard Schema interface (standardschema.dev), reproduced structurally so that the core
 * needs no dependency: zod, valibot and arktype schemas all satisfy it.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) =>
      | StandardResult<Output>
      | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** What a Standard Schema's `validate` returns. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
    readonly issues: ReadonlyArray<
      { readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> }
    >;
  };

/**
 * Validates a body against a Standard Schema.
 *
 * @param name the event name, for the error
 * @param schema the schema
 * @param body the body
 * @returns the validated value (a schema may transform it)
 * @throws {ValidationError} code `invalid_body`, with every issue
 */
export async function validateBody(name: string, schema: StandardSchemaV1, body: unknown): Promise<unknown> {
  const result = await schema["~standard"].validate(body);
  if (result.issues) {
    throw new ValidationError(
      name,
      result.issues.map((issue) => ({
        message: issue.message,
        path: issue.path && Array.from(issue.path, (segment) => typeof segment === "object" ? segment.key : segment),
      })),
    );
  }
  return result.value;
}
