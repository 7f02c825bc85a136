// The OData TC's converters ship without types; these are the parts the tests call.
declare module "odata-csdl" {
  export function xml2json(
    xml: string,
    options?: { lineNumbers?: boolean; annotations?: boolean; strict?: boolean; messages?: unknown[] },
  ): Record<string, unknown>;
}

declare module "odata-openapi" {
  export function csdl2openapi(
    csdl: Record<string, unknown>,
    options?: { scheme?: string; host?: string; basePath?: string; openapiVersion?: string; diagram?: boolean; maxLevels?: number; messages?: unknown[] },
  ): Record<string, unknown>;
}
