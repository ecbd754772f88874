/* The reference Argon2 code includes <stdio.h> but prints only in its GENKAT build, which this is not. */
#ifndef VEIL_ARGON2_STDIO_H
#define VEIL_ARGON2_STDIO_H
#endif
