DROP TABLE slot_holds;
DROP TABLE experiment_assignments;
DROP TABLE experiments;
DROP TABLE assets;
DROP TABLE asset_folders;
