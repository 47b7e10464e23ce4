/*
 * forget - delete a topic and a consumer group that a check made.
 *
 * Every test of a check makes its own topic and group, so that no test
 * reads another's leftovers. Left on the broker they add up: hundreds of
 * topics after a few `make check`, thousands after `make test`, and a
 * broker restarted on that data takes longer to load its logs and every
 * group's committed offsets. A test that passed forgets what it made; a
 * test that failed keeps it, for `make commits` and `make lag`.
 *
 * Deleting a group the broker still counts members in (a consumer killed
 * moments ago, until its session ends) is refused: that is no error here,
 * the group's offsets expire with the broker's offsets.retention.minutes.
 */
#include <getopt.h>
#include <stdio.h>

#include "kit.h"

static const char usage[] =
    "usage: forget [-b BROKER] [-t TOPIC] [-g GROUP]\n"
    "  Delete TOPIC and consumer GROUP (either or both); gone already is fine.\n"
    "  Says per name: deleted, no (there was none), or kept (members left).\n"
    "  -b BROKER  broker address (default " KIT_BROKER ")\n"
    "  -t TOPIC   the topic to delete\n"
    "  -g GROUP   the consumer group to delete (refused while it has members)\n"
    "  -h         show this help\n";

/* Wait for the Admin API's answer on queue; NULL (after saying so) if none. */
static rd_kafka_event_t *answer(rd_kafka_queue_t *queue, const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, KIT_TIMEOUT_MS + 2000);

    if (!ev)
        kit_err("the broker did not answer the request to delete %s", what);
    return ev;
}

static int delete_topic(rd_kafka_t *rk, rd_kafka_queue_t *queue, const char *topic)
{
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
    rd_kafka_event_t *ev;
    int rc = 1;

    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, queue);
    rd_kafka_DeleteTopic_destroy(dt);
    if (!(ev = answer(queue, topic)))
        return 1;
    if (rd_kafka_event_error(ev)) {
        kit_err("cannot delete topic %s: %s", topic, rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_topic_result_t **res = rd_kafka_DeleteTopics_result_topics(
            rd_kafka_event_DeleteTopics_result(ev), &n);
        rd_kafka_resp_err_t err = n == 1 ? rd_kafka_topic_result_error(res[0])
                                         : RD_KAFKA_RESP_ERR__BAD_MSG;

        if (err && err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            kit_err("cannot delete topic %s: %s", topic, rd_kafka_err2str(err));
        } else {
            printf("%s topic %s\n", err ? "no" : "deleted", topic);
            rc = 0;
        }
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

static int delete_group(rd_kafka_t *rk, rd_kafka_queue_t *queue, const char *group)
{
    rd_kafka_DeleteGroup_t *dg = rd_kafka_DeleteGroup_new(group);
    rd_kafka_event_t *ev;
    int rc = 1;

    rd_kafka_DeleteGroups(rk, &dg, 1, NULL, queue);
    rd_kafka_DeleteGroup_destroy(dg);
    if (!(ev = answer(queue, group)))
        return 1;
    if (rd_kafka_event_error(ev)) {
        kit_err("cannot delete group %s: %s", group, rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_group_result_t **res = rd_kafka_DeleteGroups_result_groups(
            rd_kafka_event_DeleteGroups_result(ev), &n);
        const rd_kafka_error_t *error = n == 1 ? rd_kafka_group_result_error(res[0]) : NULL;
        rd_kafka_resp_err_t err = error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;

        if (err == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP)
            printf("group %s still has members: kept\n", group);
        else if (err && err != RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND)
            kit_err("cannot delete group %s: %s", group, rd_kafka_error_string(error));
        else {
            printf("%s group %s\n", err ? "no" : "deleted", group);
            rc = 0;
        }
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

int main(int argc, char **argv)
{
    const char *broker = KIT_BROKER, *topic = NULL, *group = NULL;
    int opt, rc = 0;

    kit_prog = "forget";
    kit_deadline(30); /* whatever the broker does, an answer within 30 s */
    while ((opt = getopt(argc, argv, "b:t:g:h")) != -1) {
        switch (opt) {
        case 'b': broker = optarg; break;
        case 't': topic = optarg; break;
        case 'g': group = optarg; break;
        case 'h': kit_usage(usage, 0);
        default:  kit_usage(usage, 2);
        }
    }
    if (optind < argc || (!topic && !group))
        kit_usage(usage, 2);

    rd_kafka_conf_t *conf = kit_conf(broker, NULL);
    if (!conf)
        return 1;
    /* kit_connect() says "no Kafka broker answers" in one line itself. */
    const rd_kafka_metadata_t *md;
    rd_kafka_t *rk = kit_connect(RD_KAFKA_PRODUCER, conf, broker, KIT_TIMEOUT_MS, &md);
    if (!rk)
        return 1;
    rd_kafka_metadata_destroy(md);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    if (group)
        rc |= delete_group(rk, queue, group);
    if (topic)
        rc |= delete_topic(rk, queue, topic);
    rd_kafka_queue_destroy(queue);
    rd_kafka_destroy(rk);
    return rc;
}
