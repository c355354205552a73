/*
 * config.c: every key, every default, and every class of error with the file and
 * line it must name. Each test writes its file into a fresh mkdtemp directory.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "common/config.h"
#include "tests/suites_decl.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define EXAMPLE		"docs/bbupgraded.conf.example"

/* A deployment with only its required keys. */
#define DEPLOYMENT(name) \
	"[deployment " name "]\n" \
	"region = eu-west-1\n" \
	"stack = bitbucket\n" \
	"bitbucket_url = https://bitbucket.example.com\n"

static char		 dir[256];
static char		 path[300];
static char		 err[2048];
static struct config	 cfg;

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/check_config.XXXXXX", tmp != NULL ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bbupgraded.conf", dir);
	unsetenv("CREDENTIALS_DIRECTORY");
	memset(&cfg, 0, sizeof(cfg));
	memset(err, 0, sizeof(err));
}

static void
teardown(void)
{
	char p[600];
	struct dirent *de;
	DIR *d;

	config_free(&cfg);
	unsetenv("CREDENTIALS_DIRECTORY");
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) == -1)
			rmdir(p);
	}
	closedir(d);
	rmdir(dir);
}

static void
write_bytes(const char *data, size_t len)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

static int
load(const char *text)
{
	write_bytes(text, strlen(text));
	return config_load(path, &cfg, err, sizeof(err));
}

static int
is_zero(const struct config *c)
{
	static const struct config zero;

	return memcmp(c, &zero, sizeof(zero)) == 0;
}

/*
 * The load failed, err is one line that starts with "PATH:LINE: " (or "PATH: " for
 * line 0) and holds every word, and nothing was returned but the message.
 */
static void
check_failed(int tline, int rc, int line, const char *const *words)
{
	char prefix[400];

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	ck_assert_msg(rc == -1, "test line %d: loaded, expected an error", tline);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
	    "test line %d: '%s' does not start with '%s'", tline, err, prefix);
	ck_assert_msg(strchr(err, '\n') == NULL, "test line %d: '%s' is not one line",
	    tline, err);
	for (; *words != NULL; words++)
		ck_assert_msg(strstr(err, *words) != NULL, "test line %d: '%s' lacks '%s'",
		    tline, err, *words);
	ck_assert_msg(is_zero(&cfg), "test line %d: config not cleared", tline);
}

#define FAILS(text, line, ...) \
	check_failed(__LINE__, load(text), (line), (const char *const []){ __VA_ARGS__, NULL })
#define LOADS(text) \
	ck_assert_msg(load(text) == 0, "'%s' refused: %s", (text), err)

/* ---- valid files ---- */

static const char full[] =
	"; every key, with values other than the defaults\n"
	"# both comment styles\n"
	"[daemon]\n"
	"socket = /run/bb/ctl.sock\n"
	"state_directory = /srv/bbupgraded\n"
	"log_level = debug\n"
	"control_group = bbops\n"
	"max_clients = 8\n"
	"client_timeout = 2m\n"
	"poll_interval = 5s\n"
	"stack_timeout = 2h\n"
	"node_timeout = 900\n"
	"\n"
	"[deployment prod]\n"
	"region = us-gov-west-1\n"
	"stack = Bitbucket-Prod-1\n"
	"bitbucket_url = https://bitbucket.example.com:8443/bitbucket/\n"
	"bitbucket_user = upgrade-bot\n"
	"password_file = /etc/bbupgraded/prod.password\n"
	"surge = 3\n"
	"on_failure = rollback\n"
	"order = literal\n"
	"aws_profile = bitbucket.admin\n"
	"endpoint_url = http://127.0.0.1:4566\n"
	"endpoint_url_cloudformation = http://127.0.0.1:9001/\n"
	"endpoint_url_auto_scaling = http://127.0.0.1:9002\n"
	"endpoint_url_ec2 = http://127.0.0.1:9003\n"
	"endpoint_url_cloudwatch = http://127.0.0.1:9004\n"
	"endpoint_url_elastic_load_balancing = http://127.0.0.1:9005\n"
	"endpoint_url_sts = https://sts.example.com/sts\n"
	"\n"
	"[deployment staging-2]\n"
	"region = eu-west-1\n"
	"stack = bb-staging\n"
	"bitbucket_url = http://10.0.0.5:7990\n"
	"token_file = /etc/bbupgraded/staging.token\n"
	"on_failure = retry\n";

START_TEST(full_file)
{
	const struct deployment *d;

	LOADS(full);
	ck_assert_str_eq(cfg.path, path);
	ck_assert_str_eq(cfg.socket_path, "/run/bb/ctl.sock");
	ck_assert_str_eq(cfg.state_dir, "/srv/bbupgraded");
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert_str_eq(cfg.control_group, "bbops");
	ck_assert_int_eq(cfg.max_clients, 8);
	ck_assert_int_eq(cfg.client_timeout_ms, 120000);
	ck_assert_int_eq(cfg.poll_interval_ms, 5000);
	ck_assert_int_eq(cfg.stack_timeout_ms, 7200000);
	ck_assert_int_eq(cfg.node_timeout_ms, 900000);
	ck_assert_uint_eq(cfg.ndeployments, 2);

	d = config_deployment(&cfg, "prod");
	ck_assert_ptr_eq(d, &cfg.deployments[0]);
	ck_assert_str_eq(d->name, "prod");
	ck_assert_int_eq(d->line, 14);
	ck_assert_str_eq(d->region, "us-gov-west-1");
	ck_assert_str_eq(d->stack, "Bitbucket-Prod-1");
	ck_assert_str_eq(d->bitbucket_url, "https://bitbucket.example.com:8443/bitbucket");
	ck_assert_str_eq(d->bitbucket_user, "upgrade-bot");
	ck_assert_str_eq(d->password_file, "/etc/bbupgraded/prod.password");
	ck_assert_ptr_null(d->token_file);
	ck_assert_int_eq(d->surge, 3);
	ck_assert_int_eq(d->on_failure, ON_FAILURE_ROLLBACK);
	ck_assert_int_eq(d->order, ORDER_LITERAL);
	ck_assert_str_eq(d->aws_profile, "bitbucket.admin");
	ck_assert_str_eq(d->endpoint_url, "http://127.0.0.1:4566");
	ck_assert_str_eq(d->endpoint[AWS_CLOUDFORMATION], "http://127.0.0.1:9001");
	ck_assert_str_eq(d->endpoint[AWS_AUTOSCALING], "http://127.0.0.1:9002");
	ck_assert_str_eq(d->endpoint[AWS_EC2], "http://127.0.0.1:9003");
	ck_assert_str_eq(d->endpoint[AWS_CLOUDWATCH], "http://127.0.0.1:9004");
	ck_assert_str_eq(d->endpoint[AWS_ELB], "http://127.0.0.1:9005");
	ck_assert_str_eq(d->endpoint[AWS_STS], "https://sts.example.com/sts");

	d = config_deployment(&cfg, "staging-2");
	ck_assert_ptr_eq(d, &cfg.deployments[1]);
	ck_assert_int_eq(d->line, 32);
	ck_assert_str_eq(d->bitbucket_url, "http://10.0.0.5:7990");
	ck_assert_str_eq(d->token_file, "/etc/bbupgraded/staging.token");
	ck_assert_ptr_null(d->password_file);
	ck_assert_ptr_null(d->bitbucket_user);
	ck_assert_int_eq(d->surge, 1);
	ck_assert_int_eq(d->on_failure, ON_FAILURE_RETRY);

	ck_assert_ptr_null(config_deployment(&cfg, "nope"));
	ck_assert_ptr_null(config_deployment(&cfg, "Prod"));
	ck_assert_ptr_null(config_deployment(&cfg, NULL));
	ck_assert_ptr_null(config_deployment(NULL, "prod"));
}
END_TEST

static void
check_daemon_defaults(void)
{
	ck_assert_str_eq(cfg.socket_path, "/run/bbupgraded/control.sock");
	ck_assert_str_eq(cfg.state_dir, "/var/lib/bbupgraded");
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_ptr_null(cfg.control_group);
	ck_assert_int_eq(cfg.max_clients, 64);
	ck_assert_int_eq(cfg.client_timeout_ms, 60000);
	ck_assert_int_eq(cfg.poll_interval_ms, 10000);
	ck_assert_int_eq(cfg.stack_timeout_ms, 3600000);
	ck_assert_int_eq(cfg.node_timeout_ms, 1800000);
}

START_TEST(defaults_empty_file)
{
	LOADS("");
	check_daemon_defaults();
	ck_assert_uint_eq(cfg.ndeployments, 0);
	ck_assert_ptr_null(cfg.deployments);
	config_free(&cfg);
	LOADS("; only a comment\n\n   \n# and another\n[daemon]\n");
	check_daemon_defaults();
	ck_assert_uint_eq(cfg.ndeployments, 0);
}
END_TEST

START_TEST(defaults_deployment)
{
	const struct deployment *d;

	LOADS(DEPLOYMENT("prod"));
	check_daemon_defaults();
	ck_assert_uint_eq(cfg.ndeployments, 1);
	d = &cfg.deployments[0];
	ck_assert_int_eq(d->line, 1);
	ck_assert_int_eq(d->surge, 1);
	ck_assert_int_eq(d->on_failure, ON_FAILURE_HALT);
	ck_assert_int_eq(d->order, ORDER_EFFICIENT);
	/* No CREDENTIALS_DIRECTORY: the daemon reports the missing token itself. */
	ck_assert_ptr_null(d->token_file);
	ck_assert_ptr_null(d->password_file);
	ck_assert_ptr_null(d->bitbucket_user);
	ck_assert_ptr_null(d->aws_profile);
	ck_assert_ptr_null(d->endpoint_url);
	for (int i = 0; i < AWS_SERVICE_COUNT; i++)
		ck_assert_ptr_null(d->endpoint[i]);
}
END_TEST

START_TEST(default_token_is_credential)
{
	setenv("CREDENTIALS_DIRECTORY", "/run/credentials/bbupgraded.service", 1);
	LOADS(DEPLOYMENT("prod") DEPLOYMENT("test-2"));
	ck_assert_str_eq(cfg.deployments[0].token_file,
	    "/run/credentials/bbupgraded.service/bitbucket_prod");
	ck_assert_str_eq(cfg.deployments[1].token_file,
	    "/run/credentials/bbupgraded.service/bitbucket_test-2");
	config_free(&cfg);
	/* An empty variable is no directory at all. */
	setenv("CREDENTIALS_DIRECTORY", "", 1);
	LOADS(DEPLOYMENT("prod"));
	ck_assert_ptr_null(cfg.deployments[0].token_file);
}
END_TEST

START_TEST(relative_secret_with_credentials_directory)
{
	setenv("CREDENTIALS_DIRECTORY", "/run/credentials/x", 1);
	LOADS(DEPLOYMENT("prod") "token_file = prod-token\n");
	ck_assert_str_eq(cfg.deployments[0].token_file, "/run/credentials/x/prod-token");
	ck_assert_ptr_null(cfg.deployments[0].password_file);
	config_free(&cfg);
	LOADS(DEPLOYMENT("prod") "password_file = bb.pw\nbitbucket_user = bot\n");
	ck_assert_str_eq(cfg.deployments[0].password_file, "/run/credentials/x/bb.pw");
	ck_assert_ptr_null(cfg.deployments[0].token_file);
	ck_assert_str_eq(cfg.deployments[0].bitbucket_user, "bot");
}
END_TEST

START_TEST(relative_secret_without_credentials_directory)
{
	FAILS(DEPLOYMENT("prod") "token_file = prod-token\n", 5,
	    "[deployment prod] token_file: 'prod-token'", "CREDENTIALS_DIRECTORY is not set",
	    "LoadCredential=", "allowed: an absolute path");
	FAILS("\n" DEPLOYMENT("prod") "bitbucket_user = u\npassword_file = pw\n", 7,
	    "[deployment prod] password_file:", "CREDENTIALS_DIRECTORY");
	setenv("CREDENTIALS_DIRECTORY", "/run/credentials/x", 1);
	FAILS(DEPLOYMENT("prod") "token_file = sub/token\n", 5,
	    "'sub/token' is not allowed (a relative name may not contain '/')");
	FAILS(DEPLOYMENT("prod") "token_file = ..\n", 5, "'..' is not allowed");
}
END_TEST

START_TEST(lexical_details)
{
	/* CRLF, a BOM, indented keys (never continuation lines), inline comments. */
	LOADS("\xef\xbb\xbf[daemon]\r\n  log_level = warning\r\n\tmax_clients = 5 ; five\r\n"
	    "  [deployment  prod ]  ; spaces are fine\r\n"
	    "    region = eu-west-1\r\n    stack = bb\r\n"
	    "    bitbucket_url = https://bb.example.com/\r\n");
	ck_assert_int_eq(cfg.log_level, LOG_WARNING);
	ck_assert_int_eq(cfg.max_clients, 5);
	ck_assert_str_eq(cfg.deployments[0].name, "prod");
	ck_assert_str_eq(cfg.deployments[0].region, "eu-west-1");
	ck_assert_str_eq(cfg.deployments[0].bitbucket_url, "https://bb.example.com");
	config_free(&cfg);
	/* Sections in any order, [daemon] last; a file without a final newline. */
	LOADS(DEPLOYMENT("a") "[daemon]\nlog_level = error");
	ck_assert_int_eq(cfg.log_level, LOG_ERR);
	ck_assert_uint_eq(cfg.ndeployments, 1);
}
END_TEST

START_TEST(example_file)
{
	struct stat st;

	ck_assert_msg(stat(EXAMPLE, &st) == 0, "run the tests from the repository root");
	ck_assert_int_eq(config_load(EXAMPLE, &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.ndeployments, 1);
	ck_assert_str_eq(cfg.deployments[0].name, "prod");
	ck_assert_str_eq(cfg.deployments[0].region, "eu-west-1");
	ck_assert_str_eq(cfg.deployments[0].stack, "bitbucket-prod");
	ck_assert_str_eq(cfg.deployments[0].bitbucket_url, "https://bitbucket.example.com");
	ck_assert_ptr_null(cfg.deployments[0].token_file);
	config_free(&cfg);
	setenv("CREDENTIALS_DIRECTORY", "/run/credentials/bbupgraded.service", 1);
	ck_assert_int_eq(config_load(EXAMPLE, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.deployments[0].token_file,
	    "/run/credentials/bbupgraded.service/bitbucket_prod");
}
END_TEST

/* Each key endpoint_url_<service> lands in endpoint[service], named as AWS_ENDPOINT_URL_<SERVICE>. */
START_TEST(service_names)
{
	char text[512], key[64];
	const char *name;
	size_t i;

	for (int s = 0; s < AWS_SERVICE_COUNT; s++) {
		if (s == AWS_ELBV2)	/* no target groups in this stack: no key */
			continue;
		name = aws_service_info((enum aws_service)s)->env;
		for (i = 0; name[i] != '\0'; i++)
			key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
			    name[i] - 'A' + 'a' : name[i]);
		key[i] = '\0';
		snprintf(text, sizeof(text), DEPLOYMENT("p") "endpoint_url_%s = "
		    "http://localhost:%d\n", key, 9000 + s);
		LOADS(text);
		snprintf(text, sizeof(text), "http://localhost:%d", 9000 + s);
		for (int o = 0; o < AWS_SERVICE_COUNT; o++)
			if (o == s)
				ck_assert_str_eq(cfg.deployments[0].endpoint[o], text);
			else
				ck_assert_ptr_null(cfg.deployments[0].endpoint[o]);
		config_free(&cfg);
	}
}
END_TEST

/* ---- accepted and refused values, one key at a time ---- */

struct value_case {
	const char	*section;	/* "daemon" or "deployment" */
	const char	*key;
	const char	*value;
	const char	*expect;	/* refused: in the message; NULL: accepted */
};

static const struct value_case values[] = {
	{ "daemon", "socket", "/run/" "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789" "01234567890123456789.s", NULL },
	{ "daemon", "socket", "/run/" "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789" "012345678901234567890.s",
	    "(too long); allowed: an absolute path of at most 107 bytes" },
	{ "daemon", "socket", "run/control.sock", "(not an absolute path)" },
	{ "daemon", "state_directory", "var/lib/bb", "allowed: an absolute path" },
	{ "daemon", "state_directory", "/var/lib/\x1b[2J", "'/var/lib/?[2J'" },
	{ "daemon", "log_level", "verbose", "allowed: error, warning, info or debug" },
	{ "daemon", "log_level", "INFO", "allowed: error, warning, info or debug" },
	{ "daemon", "control_group", "_bb-ops.2", NULL },
	{ "daemon", "control_group", "1ops", "allowed: a group name" },
	{ "daemon", "control_group", "bb ops", "allowed: a group name" },
	{ "daemon", "control_group", "g23456789012345678901234567890123",
	    "allowed: a group name" },
	{ "daemon", "max_clients", "1024", NULL },
	{ "daemon", "max_clients", "0", "allowed: a whole number from 1 to 1024" },
	{ "daemon", "max_clients", "1025", "from 1 to 1024" },
	{ "daemon", "max_clients", "-1", "from 1 to 1024" },
	{ "daemon", "max_clients", "+5", "from 1 to 1024" },
	{ "daemon", "max_clients", "1e3", "from 1 to 1024" },
	{ "daemon", "max_clients", "99999999999999999999", "from 1 to 1024" },
	{ "daemon", "client_timeout", "1h", NULL },
	{ "daemon", "client_timeout", "0", "allowed: a duration from 1s to 1h" },
	{ "daemon", "client_timeout", "3601", "from 1s to 1h" },
	{ "daemon", "client_timeout", "61m", "from 1s to 1h" },
	{ "daemon", "client_timeout", "1d", "followed by ms, s, m or h" },
	{ "daemon", "client_timeout", "10ms", "from 1s to 1h" },
	{ "daemon", "client_timeout", "s", "from 1s to 1h" },
	{ "daemon", "client_timeout", "1.5h", "from 1s to 1h" },
	{ "daemon", "client_timeout", "2 h", "from 1s to 1h" },
	{ "daemon", "client_timeout", "-5", "from 1s to 1h" },
	{ "daemon", "poll_interval", "10m", NULL },
	{ "daemon", "poll_interval", "601s", "allowed: a duration from 200ms to 10m" },
	{ "daemon", "stack_timeout", "24h", NULL },
	{ "daemon", "stack_timeout", "9", "allowed: a duration from 10s to 24h" },
	{ "daemon", "stack_timeout", "25h", "from 10s to 24h" },
	{ "daemon", "node_timeout", "10s", NULL },
	{ "daemon", "node_timeout", "9999ms", "allowed: a duration from 10s to 24h" },
	{ "daemon", "node_timeout", "99999999999h", "from 10s to 24h" },
	{ "daemon", "node_timeout", "999999999h", "from 10s to 24h" },
	{ "daemon", "poll_interval", "200ms", NULL },
	{ "daemon", "poll_interval", "199ms", "from 200ms to 10m" },
	{ "daemon", "poll_interval", "1ms5", "from 200ms to 10m" },
	{ "daemon", "poll_interval", "5mss", "from 200ms to 10m" },
	{ "deployment", "region", "eu-west-1", NULL },
	{ "deployment", "region", "us-gov-west-1", NULL },
	{ "deployment", "region", "us-isob-east-1", NULL },
	{ "deployment", "region", "ap-southeast-2", NULL },
	{ "deployment", "region", "eu-west", "allowed: an AWS region name" },
	{ "deployment", "region", "EU-WEST-1", "an AWS region name" },
	{ "deployment", "region", "euwest1", "an AWS region name" },
	{ "deployment", "region", "eu-west-12", "an AWS region name" },
	{ "deployment", "region", "e-west-1", "an AWS region name" },
	{ "deployment", "region", "eu-west-1 x", "an AWS region name" },
	{ "deployment", "stack", "A", NULL },
	{ "deployment", "stack", "1stack", "allowed: a CloudFormation stack name" },
	{ "deployment", "stack", "my_stack", "a CloudFormation stack name" },
	{ "deployment", "stack", "s"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "012345678901234567890123456789012345678901234567890123456789012", NULL },
	{ "deployment", "stack", "s"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "0123456789012345678901234567890123456789012345678901234567890123",
	    "a CloudFormation stack name" },
	{ "deployment", "bitbucket_url", "https://[::1]:8443/bb", NULL },
	{ "deployment", "bitbucket_url", "http://bb.example.com/a%20b/~x;y=1", NULL },
	{ "deployment", "bitbucket_url", "ftp://bb.example.com",
	    "(the scheme must be http:// or https://); allowed: an http:// or https:// URL" },
	{ "deployment", "bitbucket_url", "HTTPS://bb.example.com", "the scheme" },
	{ "deployment", "bitbucket_url", "bb.example.com", "the scheme" },
	{ "deployment", "bitbucket_url", "https://admin@bb.example.com", "no user@" },
	{ "deployment", "bitbucket_url", "https://admin:secret@bb.example.com/", "no user@" },
	{ "deployment", "bitbucket_url", "https://bb.example.com/?a=1", "no query" },
	{ "deployment", "bitbucket_url", "https://bb.example.com?a", "no query" },
	{ "deployment", "bitbucket_url", "https://bb.example.com/#top", "or fragment" },
	{ "deployment", "bitbucket_url", "https://", "no host" },
	{ "deployment", "bitbucket_url", "https:///path", "no host" },
	{ "deployment", "bitbucket_url", "https://bb.example.com:0", "bad port" },
	{ "deployment", "bitbucket_url", "https://bb.example.com:65536", "bad port" },
	{ "deployment", "bitbucket_url", "https://bb.example.com:", "bad port" },
	{ "deployment", "bitbucket_url", "https://bb.example.com:http", "bad port" },
	{ "deployment", "bitbucket_url", "https://bb_1.example.com", "bad host name" },
	{ "deployment", "bitbucket_url", "https://-bb.example.com", "bad host name" },
	{ "deployment", "bitbucket_url", "https://bb..example.com", "bad host name" },
	{ "deployment", "bitbucket_url", "https://[::1", "bad IPv6" },
	{ "deployment", "bitbucket_url", "https://[::1]x", "bad IPv6" },
	{ "deployment", "bitbucket_url", "https://bb.example.com/a b", "in the path" },
	{ "deployment", "bitbucket_url", "https://bb.example.com/%zz", "in the path" },
	{ "deployment", "bitbucket_user", "upgrade.bot@example.com", NULL },
	{ "deployment", "bitbucket_user", "a:b", "allowed: a Bitbucket user name" },
	{ "deployment", "bitbucket_user", "a b", "a Bitbucket user name" },
	{ "deployment", "token_file", "relative/path", "may not contain '/'" },
	{ "deployment", "token_file", "/etc/x\x01y", "(control character)" },
	{ "deployment", "password_file", "a b", "allowed: an absolute path, or the name" },
	{ "deployment", "surge", "16", NULL },
	{ "deployment", "surge", "abc", "allowed: a whole number from 1 to 16" },
	{ "deployment", "surge", "0", "from 1 to 16" },
	{ "deployment", "surge", "17", "from 1 to 16" },
	{ "deployment", "on_failure", "HALT", "allowed: halt, retry or rollback" },
	{ "deployment", "on_failure", "ignore", "halt, retry or rollback" },
	{ "deployment", "order", "literal", NULL },
	{ "deployment", "order", "seed", "allowed: efficient or literal" },
	{ "deployment", "aws_profile", "default", NULL },
	{ "deployment", "aws_profile", "a/b", "allowed: a profile name" },
	{ "deployment", "aws_profile", "a b", "a profile name" },
	{ "deployment", "endpoint_url", "ftp://localhost", "the scheme" },
	{ "deployment", "endpoint_url_cloudformation", "https://u@h", "no user@" },
	{ "deployment", "endpoint_url_auto_scaling", "https://h?x", "no query" },
	{ "deployment", "endpoint_url_ec2", "h", "the scheme" },
	{ "deployment", "endpoint_url_cloudwatch", "https://h#", "fragment" },
	{ "deployment", "endpoint_url_elastic_load_balancing", "https://h:99999",
	    "bad port" },
	{ "deployment", "endpoint_url_sts", "https://", "no host" },
};

/*
 * The key is the first one of its section, so a refusal happens on its own line
 * before any check across keys: line 3 for [daemon], 2 for [deployment prod].
 */
START_TEST(value_table)
{
	static const char *const required[] = {
		"region = eu-west-1\n", "stack = bb\n",
		"bitbucket_url = https://bb.example.com\n",
	};
	const struct value_case *c = &values[_i];
	char text[1024], where[128];
	int daemon = strcmp(c->section, "daemon") == 0;
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "%s%s = %s\n", daemon ?
	    "# x\n[daemon]\n" : "[deployment prod]\n", c->key, c->value);
	for (size_t i = 0; !daemon && i < nitems(required); i++)
		if (strncmp(required[i], c->key, strlen(c->key)) != 0 ||
		    required[i][strlen(c->key)] != ' ')
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", required[i]);
	if (strcmp(c->key, "bitbucket_user") == 0)
		snprintf(text + n, sizeof(text) - n, "password_file = /p\n");
	if (strcmp(c->key, "password_file") == 0)
		snprintf(text + n, sizeof(text) - n, "bitbucket_user = u\n");
	if (c->expect == NULL) {
		ck_assert_msg(load(text) == 0, "%s = '%s' refused: %s", c->key, c->value, err);
		return;
	}
	snprintf(where, sizeof(where), "[%s] %s: '", daemon ? "daemon" :
	    "deployment prod", c->key);
	FAILS(text, daemon ? 3 : 2, where, "' is not allowed", c->expect);
}
END_TEST

START_TEST(value_message_exact)
{
	char want[600];

	snprintf(want, sizeof(want), "%s:3: [deployment prod] surge: 'abc' is not allowed; "
	    "allowed: a whole number from 1 to 16", path);
	ck_assert_int_eq(load("\n[deployment prod]\nsurge = abc\n"), -1);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(value_shown_shortened)
{
	char text[300];

	snprintf(text, sizeof(text), "[daemon]\nstate_directory = x%0150d\n", 7);
	FAILS(text, 2, "'x0000000000", "...'", "allowed: an absolute path");
}
END_TEST

START_TEST(empty_value)
{
	FAILS("[deployment prod]\nregion =\n", 2,
	    "[deployment prod] region: an empty value is not allowed; allowed: an AWS region");
	FAILS("[daemon]\nlog_level = ; nothing\n", 2, "[daemon] log_level: an empty value");
}
END_TEST

/* ---- structure ---- */

START_TEST(unknown_section)
{
	FAILS("[daemon]\n[foo]\n", 2, "[foo]: unknown section",
	    "allowed: [daemon] and [deployment NAME]");
	FAILS("[Daemon]\n", 1, "[Daemon]: unknown section");
	FAILS("[daemon x]\n", 1, "[daemon x]: unknown section");
	FAILS("[deployment]\n", 1, "[deployment]: unknown section");
	FAILS("[deployment a b]\n", 1, "[deployment a b]: unknown section");
	FAILS("[]\n", 1, "[]: unknown section");
	FAILS("[deployments prod]\n", 1, "unknown section");
	FAILS("[daemon] junk\n", 1, "text after ']'");
	FAILS("[daemon\n", 1, "section header without ']'");
}
END_TEST

START_TEST(deployment_names)
{
	static const char *const bad[] = {
		"PROD", "-prod", "_prod", "pr.od", "pr/od", "prod!",
		"a123456789012345678901234567890123456789012345678901234567890123",
	};
	char text[256];

	LOADS(DEPLOYMENT("0") DEPLOYMENT("a_b-c")
	    DEPLOYMENT("a12345678901234567890123456789012345678901234567890123456789012"));
	ck_assert_uint_eq(cfg.ndeployments, 3);
	ck_assert_str_eq(cfg.deployments[2].name,
	    "a12345678901234567890123456789012345678901234567890123456789012");
	config_free(&cfg);
	for (size_t i = 0; i < nitems(bad); i++) {
		snprintf(text, sizeof(text), "[daemon]\n[deployment %s]\n", bad[i]);
		FAILS(text, 2, "name: '", "' is not allowed; allowed: 1 to 63 lower-case");
	}
}
END_TEST

START_TEST(unknown_key)
{
	FAILS(DEPLOYMENT("prod") "region_name = eu-west-1\n", 5,
	    "[deployment prod] region_name: unknown key; allowed: region, stack, "
	    "bitbucket_url, bitbucket_user, token_file, password_file, surge, on_failure, "
	    "order, aws_profile, endpoint_url, endpoint_url_cloudformation, "
	    "endpoint_url_auto_scaling, endpoint_url_ec2, endpoint_url_cloudwatch, "
	    "endpoint_url_elastic_load_balancing, endpoint_url_sts");
	FAILS("[daemon]\nsocket_path = /x\n", 2, "[daemon] socket_path: unknown key; "
	    "allowed: socket, state_directory, log_level, control_group, max_clients, "
	    "client_timeout, poll_interval, stack_timeout, node_timeout");
	FAILS("[daemon]\nRegion = x\n", 2, "Region: unknown key");
	FAILS("[daemon]\nregion = eu-west-1\n", 2, "[daemon] region: unknown key");
	FAILS("[daemon]\n= x\n", 2, "[daemon] '': unknown key");
	FAILS("region = eu-west-1\n", 1, "region: outside any section");
}
END_TEST

START_TEST(duplicate_key)
{
	FAILS("[daemon]\nlog_level = info\n\nlog_level = debug\n", 4,
	    "[daemon] log_level: duplicate key (first on line 2)");
	FAILS(DEPLOYMENT("prod") "surge = 2\nregion = eu-west-2\n", 6,
	    "[deployment prod] region: duplicate key (first on line 2)");
	/* The same key in different sections is no duplicate. */
	LOADS(DEPLOYMENT("a") DEPLOYMENT("b"));
}
END_TEST

START_TEST(duplicate_section)
{
	FAILS(DEPLOYMENT("prod") "\n" DEPLOYMENT("prod"), 6,
	    "[deployment prod]: duplicate section (first on line 1)");
	FAILS("[daemon]\n" DEPLOYMENT("a") "[daemon]\n", 6,
	    "[daemon]: duplicate section (first on line 1)");
}
END_TEST

START_TEST(missing_required)
{
	FAILS("# c\n[deployment prod]\nregion = eu-west-1\nbitbucket_url = https://b\n", 2,
	    "[deployment prod] missing required key 'stack' (the CloudFormation stack name)");
	FAILS("[deployment prod]\n", 1, "missing required key 'region'");
	FAILS("[deployment prod]\nregion = eu-west-1\nstack = bb\n", 1,
	    "missing required key 'bitbucket_url'");
	/* Found when the next section starts, still named by the header's line. */
	FAILS("[daemon]\n[deployment a]\nregion = eu-west-1\n" DEPLOYMENT("b"), 2,
	    "[deployment a] missing required key 'stack'");
	FAILS("[deployment a]\nregion = eu-west-1\n[foo]\n", 1,
	    "[deployment a] missing required key 'stack'");
}
END_TEST

START_TEST(secrets_exclusive)
{
	FAILS(DEPLOYMENT("prod") "token_file = /t\nbitbucket_user = u\n"
	    "password_file = /p\n", 7, "[deployment prod] password_file: not allowed "
	    "together with token_file (line 5)", "allowed: either token_file");
	FAILS(DEPLOYMENT("prod") "bitbucket_user = u\npassword_file = /p\n"
	    "token_file = /t\n", 7, "token_file: not allowed together with password_file");
	FAILS(DEPLOYMENT("prod") "surge = 2\nbitbucket_user = bot\n", 6,
	    "[deployment prod] bitbucket_user: only used with password_file");
	FAILS(DEPLOYMENT("prod") "bitbucket_user = bot\ntoken_file = /t\n", 5,
	    "bitbucket_user: only used with password_file");
	FAILS("\n" DEPLOYMENT("prod") "password_file = /p\n", 2,
	    "[deployment prod] missing required key 'bitbucket_user'");
}
END_TEST

/* ---- files that are not configuration files ---- */

START_TEST(null_arguments)
{
	char small[12];

	ck_assert_int_eq(config_load(NULL, &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no configuration file given");
	ck_assert_int_eq(config_load(path, NULL, err, sizeof(err)), -1);
	write_bytes("[bad\n", 5);
	ck_assert_int_eq(config_load(path, &cfg, NULL, 0), -1);
	ck_assert_int_eq(config_load(path, &cfg, NULL, 100), -1);
	ck_assert_int_eq(config_load(path, &cfg, small, 0), -1);
	ck_assert_int_eq(config_load(path, &cfg, small, sizeof(small)), -1);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(strncmp(small, path, sizeof(small) - 1), 0);
	ck_assert(is_zero(&cfg));
	/* Safe on a zeroed struct, twice, and on NULL. */
	config_free(&cfg);
	config_free(&cfg);
	config_free(NULL);
}
END_TEST

START_TEST(unreadable_files)
{
	char want[600];

	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);
	ck_assert(is_zero(&cfg));
	snprintf(path, sizeof(path), "%s/sub", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(want, sizeof(want), "%s: cannot read: %s", path, strerror(EISDIR));
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);
	ck_assert(is_zero(&cfg));
}
END_TEST

START_TEST(garbage)
{
	FAILS("hello world\n", 1, "'hello world' is not a comment, a [section] or a key = "
	    "value line");
	FAILS("[daemon]\nlog_level = info\nthis is not ini\n", 3, "'this is not ini'");
	/* The first problem is reported, even when a later one is ours. */
	FAILS("[daemon]\nnonsense\nbogus = 1\n", 2, "'nonsense' is not");
	FAILS("[daemon]\nbogus = 1\nnonsense\n", 2, "bogus: unknown key");
	FAILS("<?xml version=\"1.0\"?>\n<config/>\n", 1, "outside any section");
	FAILS("{\"daemon\": {\"socket\": \"/x\"}}\n", 1, "outside any section");
}
END_TEST

START_TEST(truncated)
{
	FAILS("[deploym", 1, "section header without ']'");
	FAILS(DEPLOYMENT("prod") "bitbucket_u", 5, "'bitbucket_u' is not a comment");
	FAILS("[deployment prod]\nregion = eu-we", 2, "region: 'eu-we' is not allowed");
	FAILS("[deployment prod]\nregion = eu-west-1\nstack = b", 1,
	    "missing required key 'bitbucket_url'");
}
END_TEST

START_TEST(long_line)
{
	static char text[16384];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "[daemon]\n# fine\nsocket = /");
	memset(text + n, 'a', 10000);
	strcpy(text + n + 10000, "\nlog_level = debug\n");
	FAILS(text, 3, "line too long; allowed: lines of at most");
	/* A comment does not get a pass: the next line would be read from its middle. */
	text[0] = '#';
	FAILS(text, 3, "line too long");
}
END_TEST

START_TEST(binary_file)
{
	static const char elf[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0";
	static const char nul3[] = "[daemon]\nlog_level = info\nmax\0_clients = 1\n";
	unsigned char junk[4096];
	unsigned seed = 12345;

	write_bytes(elf, sizeof(elf) - 1);
	check_failed(__LINE__, config_load(path, &cfg, err, sizeof(err)), 1,
	    (const char *const []){ "binary data (a NUL byte)", NULL });
	write_bytes(nul3, sizeof(nul3) - 1);
	check_failed(__LINE__, config_load(path, &cfg, err, sizeof(err)), 3,
	    (const char *const []){ "binary data", NULL });
	/* Random bytes without NUL: some error, at a line, never a crash. */
	for (size_t i = 0; i < sizeof(junk); i++) {
		seed = seed * 1103515245 + 12345;
		junk[i] = (unsigned char)((seed >> 16) % 255 + 1);
	}
	write_bytes((const char *)junk, sizeof(junk));
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	ck_assert_int_eq(strncmp(err, path, strlen(path)), 0);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert(is_zero(&cfg));
}
END_TEST

START_TEST(huge_file)
{
	static char chunk[65536];
	FILE *fp;

	memset(chunk, '#', sizeof(chunk));
	for (size_t i = 99; i < sizeof(chunk); i += 100)
		chunk[i] = '\n';
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	for (int i = 0; i < 17; i++)
		ck_assert_uint_eq(fwrite(chunk, 1, sizeof(chunk), fp), sizeof(chunk));
	ck_assert_int_eq(fclose(fp), 0);
	check_failed(__LINE__, config_load(path, &cfg, err, sizeof(err)), 0,
	    (const char *const []){ "not a configuration file", NULL });
}
END_TEST


Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, full_file);
	tcase_add_test(tc, defaults_empty_file);
	tcase_add_test(tc, defaults_deployment);
	tcase_add_test(tc, default_token_is_credential);
	tcase_add_test(tc, relative_secret_with_credentials_directory);
	tcase_add_test(tc, relative_secret_without_credentials_directory);
	tcase_add_test(tc, lexical_details);
	tcase_add_test(tc, example_file);
	tcase_add_test(tc, service_names);
	tcase_add_loop_test(tc, value_table, 0, (int)nitems(values));
	tcase_add_test(tc, value_message_exact);
	tcase_add_test(tc, value_shown_shortened);
	tcase_add_test(tc, empty_value);
	tcase_add_test(tc, unknown_section);
	tcase_add_test(tc, deployment_names);
	tcase_add_test(tc, unknown_key);
	tcase_add_test(tc, duplicate_key);
	tcase_add_test(tc, duplicate_section);
	tcase_add_test(tc, missing_required);
	tcase_add_test(tc, secrets_exclusive);
	tcase_add_test(tc, null_arguments);
	tcase_add_test(tc, unreadable_files);
	tcase_add_test(tc, garbage);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, long_line);
	tcase_add_test(tc, binary_file);
	tcase_add_test(tc, huge_file);
	suite_add_tcase(s, tc);
	return s;
}
