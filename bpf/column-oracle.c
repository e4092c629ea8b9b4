/* Host build of bpfheat_column for the tests: reads the interval and phase (ns), then lines of
 * "cached now..." (a recent column, then monotonic times in order), and prints each line's
 * columns, the recent column carried from one time to the next as the kernel program carries it. */
#include <stdio.h>
#include <linux/types.h>
#include "bpfheat.h"

int main(void)
{
	static struct bpfheat_config config;
	if (scanf("%llu %llu", &config.interval_ns, &config.phase_ns) != 2)
		return 2;
	char line[4096];
	fgets(line, sizeof(line), stdin);
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long long recent, now;
		int used;
		char *at = line;
		if (sscanf(at, "%llu%n", &recent, &used) != 1)
			continue;
		at += used;
		const char *separator = "";
		while (sscanf(at, "%llu%n", &now, &used) == 1) {
			at += used;
			printf("%s%llu", separator, bpfheat_column(now, &recent, &config));
			separator = " ";
		}
		printf("\n");
	}
	return 0;
}
