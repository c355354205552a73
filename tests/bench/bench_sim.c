/*
 * bbsim's throughput and memory: starts build/bbsim with N nodes, sends signed AWS
 * requests (the polls of an upgrade: DescribeAutoScalingGroups, DescribeInstances) and
 * Bitbucket's GET /rest/zdu/cluster over one keep-alive connection, as fast as it
 * answers, and prints requests per second and bbsim's RSS.
 * Usage: bench_sim BIN_DIR NODES SECONDS   (make bench-sim)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/sigv4.h"

#define AKID	"AKIDEXAMPLE"
#define SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define BASIC	"YWRtaW46YWRtaW4tc2VjcmV0LXRlc3Q="	/* admin:admin-secret-test */

static pid_t sim;
static int port;

static void
start_sim(const char *bin, const char *nodes)
{
	char path[512], line[256];
	int out[2];
	FILE *f;

	char scen[] = "/tmp/bench_sim.XXXXXX";
	int sfd = mkstemp(scen);

	/* AWS's throttling would measure the bucket, not the simulator: off. */
	if (sfd == -1 || write(sfd, "[throttle]\nenabled = false\n", 27) != 27)
		exit(1);
	close(sfd);
	snprintf(path, sizeof(path), "%s/bbsim", bin);
	if (pipe(out) == -1 || (sim = fork()) == -1)
		exit(1);
	if (sim == 0) {
		dup2(out[1], 1);
		execl(path, path, "-p", "0", "--scenario", scen, "--nodes", nodes,
		    (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	f = fdopen(out[0], "r");
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "bbsim listening on http://127.0.0.1:%d", &port) == 1) {
			unlink(scen);
			return;
		}
	fprintf(stderr, "bench_sim: %s did not start\n", path);
	exit(1);
}

static long
rss_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)sim);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* A signed AWS Query request, ready to write. */
static int
aws_request(char *buf, size_t len, const char *service, const char *body)
{
	char host[64], date[32];
	struct sigv4_header h[] = { { "Host", host }, { "Content-Type",
	    "application/x-www-form-urlencoded; charset=utf-8" } };
	struct sigv4_request req = { "POST", "/", NULL, h, 2, body, strlen(body) };
	struct sigv4_params p = { "us-east-1", service, AKID, SECRET, NULL, time(NULL), 0 };
	struct sigv4_signed s;
	int n;

	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	if (sigv4_sign(&req, &p, &s) == -1)
		return -1;
	snprintf(date, sizeof(date), "%s", s.date);
	n = snprintf(buf, len, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
	    "X-Amz-Date: %s\r\nAuthorization: %s\r\nContent-Length: %zu\r\n\r\n%s",
	    host, h[1].value, date, s.authorization, strlen(body), body);
	sigv4_signed_free(&s);
	return n;
}

/* Reads until buf holds what done() accepts; -1 on EOF or overflow. */
static int
fill(int fd, char *buf, size_t cap, size_t *have, size_t need)
{
	ssize_t r;

	while (*have < need) {
		if (need >= cap || (r = read(fd, buf + *have, cap - *have - 1)) <= 0)
			return -1;
		*have += (size_t)r;
		buf[*have] = '\0';
	}
	return 0;
}

/* Skips a chunked body starting at off; the offset after it, or 0. */
static size_t
chunked_end(int fd, char *buf, size_t cap, size_t *have, size_t off)
{
	unsigned long size;
	char *eol;

	for (;;) {
		while ((eol = strstr(buf + off, "\r\n")) == NULL)
			if (fill(fd, buf, cap, have, *have + 1) == -1)
				return 0;
		size = strtoul(buf + off, NULL, 16);
		off = (size_t)(eol + 2 - buf) + size + 2;
		if (fill(fd, buf, cap, have, off) == -1)
			return 0;
		if (size == 0)
			return off;
	}
}

/* Reads one response (Content-Length or chunked); its status, or -1. */
static int
read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0, body;
	char *eoh, *cl;
	int status;

	buf[0] = '\0';
	while ((eoh = strstr(buf, "\r\n\r\n")) == NULL)
		if (fill(fd, buf, cap, &have, have + 1) == -1)
			return -1;
	body = (size_t)(eoh + 4 - buf);
	if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL && cl < eoh) {
		if (fill(fd, buf, cap, &have, body + strtoul(cl + 17, NULL, 10)) == -1)
			return -1;
	} else if (chunked_end(fd, buf, cap, &have, body) == 0)
		return -1;
	return sscanf(buf, "HTTP/1.1 %d", &status) == 1 ? status : -1;
}

static int
connect_sim(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("bench_sim: connect");
		exit(1);
	}
	return fd;
}

int
main(int argc, char **argv)
{
	static char req[8192], resp[4 << 20];
	double secs = argc > 3 ? atof(argv[3]) : 5, t0, t = 0;
	long n = 0, errors = 0;
	struct timespec ts;
	int fd, len;

	if (argc < 3)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	start_sim(argv[1], argv[2]);
	fd = connect_sim();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec + ts.tv_nsec / 1e9;
	do {
		switch (n % 3) {
		case 0:
			len = aws_request(req, sizeof(req), "autoscaling",
			    "Action=DescribeAutoScalingGroups&Version=2011-01-01");
			break;
		case 1:
			len = aws_request(req, sizeof(req), "ec2",
			    "Action=DescribeInstances&Version=2016-11-15");
			break;
		default:
			len = snprintf(req, sizeof(req), "GET /rest/zdu/cluster HTTP/1.1\r\n"
			    "Host: 127.0.0.1:%d\r\nAuthorization: Basic " BASIC "\r\n"
			    "Accept: application/json\r\n\r\n", port);
		}
		if (len < 0 || write(fd, req, (size_t)len) != len ||
		    read_response(fd, resp, sizeof(resp)) != 200) {
			if (++errors > 10) {
				fprintf(stderr, "bench_sim: requests fail\n%.300s\n", resp);
				break;
			}
			close(fd);
			fd = connect_sim();
		}
		n++;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t = ts.tv_sec + ts.tv_nsec / 1e9 - t0;
	} while (t < secs);
	printf("bbsim, %s nodes: %.0f requests/s over %.1f s (%ld requests, %ld errors, "
	    "one connection), RSS %ld KiB\n", argv[2], n / t, t, n, errors, rss_kib());
	kill(sim, SIGTERM);
	waitpid(sim, NULL, 0);
	return errors > 10;
}
