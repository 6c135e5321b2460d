/*
 * pam_login: runs pam_authenticate() for SERVICE and USER through libpamtest (under
 * pam_wrapper), answering each prompt with the next line of standard input, like a person at a
 * terminal would. Every prompt and message is printed, so tests can check what a user sees:
 *
 *   PROMPT-HIDDEN Password:
 *   INFO ...
 *   ERROR ...
 *   RESULT <pam_strerror> <number>
 *
 * Exits with the PAM return code of pam_authenticate().
 */
#include <security/pam_appl.h>
#include <libpamtest.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int answer_prompt(const char *prompt, const char *kind, char **out)
{
	char line[1024];

	printf("%s %s\n", kind, prompt);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL) {
		printf("NO-ANSWER\n");
		return PAM_CONV_ERR;
	}
	line[strcspn(line, "\r\n")] = '\0';
	*out = strdup(line);
	memset(line, 0, sizeof(line));
	return *out != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
}

static int conversation(int num_msg, const struct pam_message **msg,
			struct pam_response **resp, void *appdata)
{
	struct pam_response *replies;
	int i;

	(void)appdata;
	replies = calloc((size_t)num_msg, sizeof(*replies));
	if (replies == NULL) {
		return PAM_BUF_ERR;
	}
	for (i = 0; i < num_msg; i++) {
		int rc = PAM_SUCCESS;

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			rc = answer_prompt(msg[i]->msg, "PROMPT-HIDDEN", &replies[i].resp);
			break;
		case PAM_PROMPT_ECHO_ON:
			rc = answer_prompt(msg[i]->msg, "PROMPT-VISIBLE", &replies[i].resp);
			break;
		case PAM_TEXT_INFO:
			printf("INFO %s\n", msg[i]->msg);
			break;
		case PAM_ERROR_MSG:
			printf("ERROR %s\n", msg[i]->msg);
			break;
		default:
			rc = PAM_CONV_ERR;
		}
		if (rc != PAM_SUCCESS) {
			int j;

			for (j = 0; j < i; j++) {
				free(replies[j].resp);
			}
			free(replies);
			return rc;
		}
	}
	*resp = replies;
	return PAM_SUCCESS;
}

int main(int argc, char **argv)
{
	struct pam_testcase tests[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
	};
	enum pamtest_err err;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: pam_login SERVICE USER < answers\n");
		return 2;
	}
	/* run_pamtest_conv() is a macro whose parentheses are wrong in libpamtest 1.1.5; this is
	 * the function it expands to. */
	err = _pamtest_conv(argv[1], argv[2], conversation, NULL, tests,
			    sizeof(tests) / sizeof(tests[0]), NULL);
	if (err != PAMTEST_ERR_OK && err != PAMTEST_ERR_CASE) {
		fprintf(stderr, "pam_login: libpamtest failed: %s\n", pamtest_strerror(err));
		return 2;
	}
	rc = tests[0].op_rv;
	printf("RESULT %s %d\n", pam_strerror(NULL, rc), rc);
	return rc;
}
