
failed2	not_owner:shard 5 movedHPX