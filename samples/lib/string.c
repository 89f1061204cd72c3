/*
 * string.c - the freestanding memory and string functions. gcc and clang
 * may emit calls to memset/memcpy/memmove/memcmp even with -ffreestanding
 * (struct copies, zeroing loops), so every sample links these. The copies
 * and fills use rep movsb/stosb: a plain byte loop here could itself be
 * turned back into a call to memset/memcpy by the optimiser.
 */
#include "kernel.h"

void *memset(void *s, int c, size_t n)
{
	void *p = s;

	__asm__ volatile("rep stosb"
			 : "+D"(p), "+c"(n)
			 : "a"(c)
			 : "memory");
	return s;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	void *dp = d;

	__asm__ volatile("rep movsb"
			 : "+D"(dp), "+S"(s), "+c"(n)
			 :
			 : "memory");
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (!n || dp == sp)
		return d;
	if (dp < sp || dp >= sp + n)
		return memcpy(d, s, n);
	/* Overlapping with d above s: copy backwards (DF set, then cleared). */
	dp += n - 1;
	sp += n - 1;
	__asm__ volatile("std; rep movsb; cld"
			 : "+D"(dp), "+S"(sp), "+c"(n)
			 :
			 : "memory");
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *pa = a, *pb = b;

	for (; n; n--, pa++, pb++)
		if (*pa != *pb)
			return *pa - *pb;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			break;
	}
	return 0;
}
