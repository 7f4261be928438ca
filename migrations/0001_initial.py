from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from decimal import Decimal
from json import dumps, loads
from models.officers import OfficerRole
from models.outbox import OutboxKind, OutboxStatus
from models.people import PersonStatus, Role
from models.projects import ProjectStatus, ProjectType
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('actor_type', fields.CharField(max_length=16)),
                ('actor_id', fields.IntField(null=True)),
                ('actor_name', fields.CharField(default='', max_length=50)),
                ('enterprise_id', fields.IntField(null=True, db_index=True)),
                ('event', fields.CharField(db_index=True, max_length=64)),
                ('subject_type', fields.CharField(max_length=32)),
                ('subject_id', fields.BigIntField(null=True)),
                ('old', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('new', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'audit_entry', 'app': 'models', 'indexes': [Index(fields=['subject_type', 'subject_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CallbackReceipt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('dedupe_key', fields.CharField(unique=True, max_length=160)),
                ('reply', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'callback_receipt', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Enterprise',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('credit_code', fields.CharField(unique=True, max_length=18)),
                ('parent', fields.ForeignKeyField('models.Enterprise', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='subsidiaries', on_delete=OnDelete.RESTRICT)),
                ('district', fields.CharField(default='', db_index=True, max_length=20)),
                ('is_local', fields.BooleanField(default=True)),
                ('legal_rep', fields.CharField(default='', max_length=50)),
                ('contact_phone', fields.CharField(default='', max_length=20)),
                ('office_phone', fields.CharField(default='', max_length=20)),
                ('established_on', fields.DateField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'enterprise', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Officer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=50)),
                ('password_hash', fields.CharField(max_length=200)),
                ('name', fields.CharField(max_length=50)),
                ('role', fields.CharEnumField(description='CITY: city\nDISTRICT: district', enum_type=OfficerRole, max_length=16)),
                ('district', fields.CharField(default='', max_length=20)),
                ('active', fields.BooleanField(default=True)),
                ('failed_logins', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'officer', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='TEMPLATE: template\nCUSTOM_TEXT: custom_text', enum_type=OutboxKind, max_length=16)),
                ('openid', fields.CharField(db_index=True, max_length=64)),
                ('person_id', fields.IntField(null=True)),
                ('template_key', fields.CharField(default='', max_length=32)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('url', fields.CharField(default='', max_length=1024)),
                ('text', fields.TextField(default='', unique=False)),
                ('subject_type', fields.CharField(default='', db_index=True, max_length=32)),
                ('subject_id', fields.BigIntField(null=True)),
                ('dedupe_key', fields.CharField(null=True, unique=True, max_length=128)),
                ('status', fields.CharEnumField(default=OutboxStatus.PENDING, db_index=True, description='PENDING: pending\nSENDING: sending\nSENT: sent\nNOT_FOLLOWING: not_following\nDEAD: dead', enum_type=OutboxStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(default='', max_length=64)),
                ('last_errcode', fields.IntField(null=True)),
                ('last_error', fields.CharField(default='', max_length=300)),
                ('wechat_msgid', fields.BigIntField(null=True, db_index=True)),
                ('delivery_status', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'models', 'indexes': [Index(fields=['subject_type', 'subject_id']), Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Person',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name='people', on_delete=OnDelete.RESTRICT)),
                ('role', fields.CharEnumField(description='LEADER: leader\nHANDLER: handler\nMANAGER: manager', enum_type=Role, max_length=16)),
                ('name', fields.CharField(max_length=50)),
                ('mobile', fields.CharField(db_index=True, max_length=11)),
                ('id_number', fields.CharField(default='', max_length=18)),
                ('modules', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=PersonStatus.ACTIVE, description='ACTIVE: active\nDEREGISTERED: deregistered', enum_type=PersonStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('deregistered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'person', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Project',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(db_index=True, max_length=200)),
                ('address', fields.CharField(default='', max_length=300)),
                ('district', fields.CharField(default='', db_index=True, max_length=20)),
                ('street', fields.CharField(default='', max_length=50)),
                ('community', fields.CharField(default='', max_length=50)),
                ('project_type', fields.IntEnumField(default=ProjectType.RESIDENTIAL, description='RESIDENTIAL: 1\nCOMMERCIAL: 2\nMIXED_RESIDENTIAL: 3\nOFFICE: 4\nMIXED_OFFICE: 5\nOTHER: 99', enum_type=ProjectType, generated=False)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', null=True, db_constraint=True, to_field='id', related_name='projects', on_delete=OnDelete.RESTRICT)),
                ('manager', fields.ForeignKeyField('models.Person', source_field='manager_id', null=True, db_constraint=True, to_field='id', related_name='managed_projects', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=ProjectStatus.MANAGED, description='MANAGED: managed\nUNMANAGED: unmanaged', enum_type=ProjectStatus, max_length=16)),
                ('build_area', fields.DecimalField(default=Decimal('0'), max_digits=14, decimal_places=2)),
                ('total_house_num', fields.IntField(default=0)),
                ('managed_since', fields.DateField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'project', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WeChatBinding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(unique=True, max_length=64)),
                ('person', fields.OneToOneField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='binding', on_delete=OnDelete.CASCADE)),
                ('bound_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('following', fields.BooleanField(default=True)),
                ('unfollowed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'wechat_binding', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
