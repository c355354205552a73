/* Data embedded at build time from schema/ (see schema/embed.sh). */
#ifndef BB_EMBEDDED_H
#define BB_EMBEDDED_H

struct migration {
	int		 version;	/* PRAGMA user_version after it */
	const char	*name;
	const char	*sql;
};

extern const struct migration	embedded_migrations[];
extern const int		embedded_nmigrations;
extern const char		embedded_varlink_idl[];

#endif
