# Sourced once, at MongoDB's first init (empty /data/db), by the image's entrypoint, with the root account:
# - the official mongo image sources /docker-entrypoint-initdb.d/*.sh with "${mongo[@]}" = mongosh logged in as root;
# - the offline SecantusDB stand-in (backend/docker/offline/mongo) sources it the same way; it has no mongosh,
#   so it offers `standin-create-user` instead (same effect, pymongo as root).
# The root account's only job: create the accounts the services use, each limited to the app's database.
# Passwords are read from the secret files (*_FILE), never passed on a command line.

create_user() {  # DATABASE USER PASSWORD_FILE ROLE
	if command -v mongosh >/dev/null 2>&1; then
		"${mongo[@]}" "$1" --eval "db.createUser({user: '$2', pwd: require('fs').readFileSync('$3', 'utf8').trim(), roles: [{role: '$4', db: '$1'}]})"
	else
		standin-create-user "$1" "$2" "$3" "$4"
	fi
	echo "create-users.sh: $2 has $4 on $1"
}

create_user "${MONGO_APP_DATABASE:?}" "${MONGO_API_USERNAME:?}" "${MONGO_API_PASSWORD_FILE:?}" readWrite
create_user "${MONGO_APP_DATABASE:?}" "${MONGO_EXPRESS_DB_USERNAME:?}" "${MONGO_EXPRESS_DB_PASSWORD_FILE:?}" readWrite
# The pose workers claim tasks and write frames, media and metrics (the work queue, docs/contracts.md).
create_user "${MONGO_APP_DATABASE:?}" "${MONGO_POSE_USERNAME:?}" "${MONGO_POSE_PASSWORD_FILE:?}" readWrite
