// The roles of API tokens, apart from the token store so that the CLI can name them without loading
// the database client.

export const roles = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof roles)[number];

/** How to make a token, for messages. */
export const CREATE_TOKEN_HINT = 'hive tokens create --name <name> --role viewer|operator|admin';
