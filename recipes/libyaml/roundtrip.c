/* The libyaml recipe's test: parses a small document into events and emits it again, checking
 * the scalars seen and that the emitted text parses to the same number of events. Exits with
 * status 1 when a check fails. */
#include <stdio.h>
#include <string.h>
#include <yaml.h>

static const char document[] = "name: wheelforge\nitems: [1, two, 3.0]\nnested: {a: b}\n";

int main(void) {
    yaml_parser_t parser;
    yaml_emitter_t emitter;
    yaml_event_t event;
    unsigned char output[1024];
    size_t written = 0;
    int events = 0, scalars = 0, found_name = 0, done = 0;

    if (!yaml_parser_initialize(&parser) || !yaml_emitter_initialize(&emitter)) return 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)document, strlen(document));
    yaml_emitter_set_output_string(&emitter, output, sizeof output, &written);
    while (!done) {
        if (!yaml_parser_parse(&parser, &event)) {
            printf("parse error: %s\n", parser.problem);
            return 1;
        }
        events++;
        if (event.type == YAML_SCALAR_EVENT) {
            scalars++;
            if (strcmp((const char *)event.data.scalar.value, "wheelforge") == 0) found_name = 1;
        }
        done = event.type == YAML_STREAM_END_EVENT;
        if (!yaml_emitter_emit(&emitter, &event)) {
            printf("emit error: %s\n", emitter.problem);
            return 1;
        }
    }
    yaml_parser_delete(&parser);
    yaml_emitter_delete(&emitter);

    int again = 0;
    done = 0;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, output, written);
    while (!done) {
        if (!yaml_parser_parse(&parser, &event)) return 1;
        again++;
        done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    printf("libyaml %s: %d events, %d scalars, re-parsed %d events\n", yaml_get_version_string(),
           events, scalars, again);
    return (events == 19 && scalars == 9 && found_name && again == events) ? 0 : 1;
}
