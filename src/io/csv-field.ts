// One CSV field (RFC 4180): quoted, with its quotes doubled, when it holds a quote, comma or line break.
export const csvField = (field: string): string => (/[",\n\r]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field);
