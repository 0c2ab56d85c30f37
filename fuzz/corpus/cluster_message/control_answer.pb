
already_active