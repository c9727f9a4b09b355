"""CloudTeacher: corpus and distillation Jobs, the published revision, KServe serving."""
