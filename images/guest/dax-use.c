/*
 * memmap-harness probe helper: proves that a device-dax instance is memory a
 * program can use. For /dev/daxX.Y it reads size, align and target_node from
 * /sys/bus/dax/devices/daxX.Y/, maps the whole device MAP_SHARED at an address
 * aligned to the device's align (device-dax refuses a mapping that is not),
 * writes a pattern into the first page, the last page, pages at each eighth
 * of the device and the pages on both sides of the first align boundary,
 * unmaps, maps the device again and reads every pattern back: the data went
 * through the device, not through a private copy.
 *
 * Prints one line the harness parses (harness/parse/use.ts):
 *   dax-use <dev> node=<n> size=<bytes> align=<bytes> checked=<bytes> result=ok
 *   dax-use <dev> node=<n> size=<bytes> align=<bytes> checked=<bytes> result=fail reason=<words>
 * Exit status 0 on ok, 1 on a failed check, 2 on bad usage.
 *
 * Built by the harness with the host compiler, `gcc -static -O2`
 * (harness/image/dax-helper.ts): busybox has no way to mmap a device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_PAGES 32
#define MAGIC 0x6d656d6d61702d68ULL /* "memmap-h" */

struct dax {
	const char *name;
	uint64_t size;
	uint64_t align;
	long node;
};

static int read_sysfs_u64(const char *dev, const char *attr, uint64_t *out)
{
	char path[256], buf[64];
	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/%s", dev, attr);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char *ok = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!ok)
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -1;
	*out = v;
	return 0;
}

static void report(const struct dax *d, uint64_t checked, const char *reason)
{
	printf("dax-use %s node=%ld size=%" PRIu64 " align=%" PRIu64 " checked=%" PRIu64 " result=%s%s%s\n",
	       d->name, d->node, d->size, d->align, checked, reason ? "fail" : "ok",
	       reason ? " reason=" : "", reason ? reason : "");
	fflush(stdout);
}

/* Maps the whole device at an address aligned to d->align; NULL on failure (errno set). */
static unsigned char *map_aligned(int fd, const struct dax *d)
{
	/* Reserve size + align of address space, then place the device inside it on an aligned address. */
	size_t span = d->size + d->align;
	unsigned char *hole = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (hole == MAP_FAILED)
		return NULL;
	uintptr_t at = ((uintptr_t)hole + d->align - 1) & ~(uintptr_t)(d->align - 1);
	unsigned char *p = mmap((void *)at, d->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		int saved = errno;
		munmap(hole, span);
		errno = saved;
		return NULL;
	}
	/* Give back the reservation's ends around the mapping. */
	if (at > (uintptr_t)hole)
		munmap(hole, at - (uintptr_t)hole);
	uintptr_t tail = at + d->size, end = (uintptr_t)hole + span;
	if (end > tail)
		munmap((void *)tail, end - tail);
	return p;
}

static int add_page(uint64_t *pages, int n, uint64_t off, uint64_t size)
{
	off &= ~(uint64_t)(PAGE - 1);
	if (off + PAGE > size || n >= MAX_PAGES)
		return n;
	for (int i = 0; i < n; i++)
		if (pages[i] == off)
			return n;
	pages[n] = off;
	return n + 1;
}

/* The word a page's slot must hold: the device offset it sits at, mixed with a constant. */
static uint64_t pattern(uint64_t off)
{
	return (off * 0x9e3779b97f4a7c15ULL) ^ MAGIC;
}

int main(int argc, char **argv)
{
	if (argc != 2 || strncmp(argv[1], "dax", 3) != 0 || strchr(argv[1], '/')) {
		fprintf(stderr, "usage: dax-use daxX.Y\n");
		return 2;
	}
	struct dax d = { .name = argv[1], .node = -1 };
	uint64_t node;
	if (read_sysfs_u64(d.name, "size", &d.size) || read_sysfs_u64(d.name, "align", &d.align)) {
		report(&d, 0, "cannot-read-size-or-align-from-sysfs");
		return 1;
	}
	if (read_sysfs_u64(d.name, "target_node", &node) == 0)
		d.node = (long)(int64_t)node;
	if (d.size == 0 || d.align < PAGE || (d.align & (d.align - 1)) || d.size % d.align) {
		report(&d, 0, "size-not-a-multiple-of-a-power-of-two-align");
		return 1;
	}

	uint64_t pages[MAX_PAGES];
	int n = 0;
	n = add_page(pages, n, 0, d.size);
	n = add_page(pages, n, d.size - PAGE, d.size);
	for (uint64_t k = 1; k < 8; k++)
		n = add_page(pages, n, d.size / 8 * k, d.size);
	if (d.size > d.align) {
		n = add_page(pages, n, d.align - PAGE, d.size);
		n = add_page(pages, n, d.align, d.size);
	}

	char path[64];
	snprintf(path, sizeof(path), "/dev/%s", d.name);
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		report(&d, 0, errno == ENOENT ? "no-device-node" : "open-failed");
		return 1;
	}
	unsigned char *p = map_aligned(fd, &d);
	if (!p) {
		report(&d, 0, "mmap-failed");
		close(fd);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		uint64_t *w = (uint64_t *)(p + pages[i]);
		for (uint64_t j = 0; j < PAGE / 8; j++)
			w[j] = pattern(pages[i] + j * 8);
	}
	munmap(p, d.size);

	/* A fresh mapping must see what the first one wrote. */
	p = map_aligned(fd, &d);
	close(fd);
	if (!p) {
		report(&d, 0, "second-mmap-failed");
		return 1;
	}
	uint64_t checked = 0;
	for (int i = 0; i < n; i++) {
		const uint64_t *w = (const uint64_t *)(p + pages[i]);
		for (uint64_t j = 0; j < PAGE / 8; j++) {
			if (w[j] != pattern(pages[i] + j * 8)) {
				char reason[96];
				snprintf(reason, sizeof(reason), "mismatch-at-offset-0x%" PRIx64, pages[i] + j * 8);
				munmap(p, d.size);
				report(&d, checked, reason);
				return 1;
			}
			checked += 8;
		}
	}
	munmap(p, d.size);
	report(&d, checked, NULL);
	return 0;
}
