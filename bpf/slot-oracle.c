/* Host build of bpfheat_slot for the tests: reads the placement table, then values, one per
 * line on stdin, and prints each value's slot. The table comes from user space exactly
 * as the kernel program gets it, so both sides are checked with the same table. */
#include <stdio.h>
#include <linux/types.h>
#include "bpfheat.h"

int main(void)
{
	static struct bpfheat_config config;
	for (int e = 0; e < BPFHEAT_MAX_EXPONENT; e++)
		for (int m = 0; m < BPFHEAT_SPLITS_PER_EXPONENT; m++)
			if (scanf("%llu", &config.placement[e][m]) != 1)
				return 2;
	unsigned long long v;
	while (scanf("%llu", &v) == 1)
		printf("%u\n", bpfheat_slot(v, &config));
	return 0;
}
